"""Acceptance of an LLM's final text before it may be shown as ``answered``.

Grounding proves the numbers are real; it cannot judge text without numbers. A real small model,
seen on this product, sent back its own tool calls as the "answer", "The capital of France is
Paris.", generic refusals while the tools held the data, and advice. So a final text must be:

1. non-empty;
2. not a tool call written as text (``app.llm.textcalls``);
3. not a template refusal when the tools returned data, nor a decline of an answerable question
   without a single tool call (a decline after the tools found nothing is accepted and recorded
   as ``refused``);
4. grounded: every number and citation traces to the evidence (``app.agent.grounding``);
5. covering: every constraint parsed from the question is honoured (``coverage`` callable, from
   the question's typed request, when the caller has one);
6. on topic: it names at least one of the question's entities or metrics.

The loop gives the model one repair turn with the problems listed, then degrades to the offline
answer with the reason recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from app.agent import budget, grounding
from app.agent.evidence import Evidence
from app.agent.result import Draft
from app.llm.base import ChatModel, LLMUnavailable
from app.llm.textcalls import looks_like_tool_call
from tools.agent_tools import known_entities
from tools.context import ToolContext

# Generic refusals and "I have no data" templates small models fall back on.
_DECLINE = re.compile(
    r"\b(i(?:'m| am)? (?:sorry|afraid)|i (?:can(?:'|no)t|cannot|am unable|'m unable|am not able"
    r"|do not|don't) (?:answer|help|provide|assist|access|give|offer|share|do that|have)"
    r"|i (?:could not|couldn't|was unable to|was not able to) (?:retrieve|find|get|answer|obtain)"
    r"|as an ai\b|outside (?:of )?(?:my|the) (?:scope|data|sources)|not (?:something|able) i"
    r"|no (?:data|information|figures?) (?:is |are |was |were )?(?:available|found)"
    r"|(?:is|are|was|were) not (?:available|found|provided)\b|\bunavailable\b)",
    re.I,
)
_WORD = re.compile(r"[A-Za-z0-9^][A-Za-z0-9&.\-']*")
_TOPIC_STOP = frozenset(
    "what which when where whose how does did was were is are the and for with from that this "
    "there their about show give tell list much many most least over into than then been have "
    "date value between during since after before year years day days please".split()
)


@dataclass
class Verdict:
    """Whether a final text may be shown, whether it is a decline, and what is wrong if not."""

    problems: list[str] = field(default_factory=list)
    decline: bool = False
    report: grounding.GroundingReport | None = None

    @property
    def ok(self) -> bool:
        """True when the text may be shown (as ``answered``, or ``refused`` for a decline)."""
        return not self.problems

    def feedback(self) -> str:
        """The problems, as one message the model can act on."""
        return "; ".join(self.problems)


def is_decline(text: str) -> bool:
    """Whether ``text`` declines to answer (a refusal template, or "no data available")."""
    return bool(_DECLINE.search(text))


def had_data(evidence: Evidence) -> bool:
    """Whether any tool call of this question returned data: not an error, not an empty list."""
    return any(not call.error and _holds_data(call.result) for call in evidence.calls)


def _holds_data(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, dict):
        return any(_holds_data(v) for k, v in value.items() if k not in ("as_of", "k"))
    if isinstance(value, list):
        return any(_holds_data(v) or isinstance(v, str) for v in value)
    return False


def topic_terms(question: str, names: Iterable[str] = ()) -> set[str]:
    """Words an on-topic answer should use: the entities and metric words of the question.

    ``names`` are extra terms (tickers, company names, feature labels) the caller resolved.
    """
    terms = {n.lower() for n in names if n}
    for word in _WORD.findall(question):
        low = word.lower().strip(".'")
        if len(low) >= 3 and low not in _TOPIC_STOP and not low.isdigit():
            terms.add(low)
    return terms


def on_topic(text: str, terms: set[str]) -> bool:
    """Whether ``text`` names at least one of ``terms`` (True when there are none to judge by)."""
    if not terms:
        return True
    low = text.lower()
    words = {w.lower().strip(".'") for w in _WORD.findall(text)}
    for term in terms:
        if " " in term or not term.isalnum():
            if term in low:
                return True
        elif term in words or (len(term) >= 5 and term[:5] in low):  # volatile ~ volatility
            return True
    return False


def check(
    text: str,
    question: str,
    evidence: Evidence,
    *,
    terms: set[str],
    coverage: Callable[[str], list[str]] | None = None,
    must_try: bool = False,
) -> Verdict:
    """Judge ``text`` as the final answer to ``question`` given the evidence gathered.

    ``must_try``: the rules found a plan for the question and the model has not called a tool,
    so a decline is not accepted yet (Qwen2.5-Coder-1.5B answered "I can't answer that." to "What
    is the probability of default of KO?" without calling the PD tool).
    """
    verdict = Verdict()
    if not text.strip():
        verdict.problems.append("the answer is empty: write the answer in plain sentences")
        return verdict
    if looks_like_tool_call(text):
        verdict.problems.append(
            "the answer is a tool call written as text: call the tool through the tool-calling "
            "interface, or write the answer in plain sentences"
        )
        return verdict
    verdict.report = grounding.check(text, evidence, question)
    if not verdict.report.ok:
        verdict.problems.append(f"your answer cannot be shown: {verdict.report.feedback()}")
    # Figures of its own (not the question's "99%"): a partial answer, not a decline.
    own = [c for c in grounding.claims(text) if c.text not in question]
    if is_decline(text) and not own:
        if had_data(evidence):
            verdict.problems.append(
                "the tools returned data for this question: answer from those results instead "
                "of declining, or say precisely which figure is missing"
            )
        elif must_try:
            verdict.problems.append(
                "no tool was called: this question can be answered from the data, so call the "
                "tools first and answer from their results"
            )
        else:
            verdict.decline = True
        return verdict
    if coverage is not None:
        verdict.problems.extend(coverage(text))
    if not on_topic(text, terms):
        verdict.problems.append(
            "the answer does not mention what was asked about ("
            + ", ".join(sorted(terms)[:8])
            + "): answer the question asked"
        )
    return verdict


# -- what the LLM path shares between its modes -----------------------------------------------
# Intents the offline planner declines without a tool call: the LLM path declines them the same.
RULE_DECLINES = frozenset({"refuse_secret", "refuse_code", "refuse_out_of_scope"})
# Intents with no plan: a model may decline them without calling a tool.
OPEN_INTENTS = frozenset({"unanswerable", "unknown_entity", "followup"})


class AnswerRejected(LLMUnavailable):
    """The model answered, but not acceptably (after one repair): the offline answer is used."""

    summary = "LLM answer not accepted"


@dataclass(frozen=True)
class Scope:
    """What the rules read in the question: its intent and the words an answer should use."""

    intent: str
    reason: str
    terms: frozenset[str]


def question_scope(
    question: str, ctx: ToolContext, history: list[dict[str, Any]] | None = None
) -> Scope:
    """The question's offline intent and topic terms (tickers, company names, metric words)."""
    from app.agent.compose import label
    from app.agent.entities import COMPANY_NAMES, extract
    from app.agent.intents import classify

    names = known_entities(ctx)
    e = extract(question, set(names["tickers"]), set(names["portfolios"]))
    intent = classify(question, e, has_history=bool(history))
    named = [*e.tickers, *e.macro, *e.items, *(label(f) for f in e.features)]
    named += [company for company, ticker in COMPANY_NAMES.items() if ticker in e.tickers]
    if e.portfolio:
        named.append(e.portfolio)
    text = question
    if intent.name == "followup" and history:
        text += " " + str(history[-1].get("question", ""))
    return Scope(intent.name, intent.reason, frozenset(topic_terms(text, named)))


def run_declined(
    model: ChatModel,
    question: str,
    ctx: ToolContext,
    evidence: Evidence,
    history: list[dict[str, Any]] | None,
    scope: Scope,
) -> Draft:
    """The planner's decline of a question the rules put out of scope (no model call)."""
    from app.agent import planner

    draft = planner.plan_and_answer(question, ctx, evidence, history)
    draft.llm = model.name
    draft.prompt = "offline-templates@1"
    draft.details["declined_before_model"] = scope.reason
    return draft


def prompt_limit(model: ChatModel, token_budget: int) -> int:
    """Prompt tokens one request may use: the budget, inside the model server's context."""
    probe = getattr(model, "context_tokens", None)
    context = probe() if callable(probe) else None
    return budget.effective_budget(token_budget, context, int(getattr(model, "max_tokens", 0)))
