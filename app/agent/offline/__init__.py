"""The offline planner: answers without an LLM — the default, and the fallback when one fails.

The question becomes a typed ``QuestionRequest`` (``app.agent.request``); ``routing.route`` sends
window, period and arithmetic requests to an executor plan over the history tools
(``EXECUTOR_PLANS``), everything else to the plan of its intent (``INTENT_PLANS``). One module per
family of questions; each plan is typed (``IntentPlan`` / ``ExecutorPlan``). Whatever plan runs,
every constraint parsed from the question must be consumed, or the answer is a decline naming
the ones left over (``app.agent.coverage``). Tool calls are planned from the question only: text
inside documents never adds a call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from app.agent import coverage
from app.agent.coverage import INTENT_CONSUMES
from app.agent.entities import Entities, extract
from app.agent.evidence import Evidence
from app.agent.intents import Intent, classify
from app.agent.offline import (
    credit,
    documents,
    features,
    fundamentals,
    loans,
    macro,
    models,
    refusals,
    risk,
    windows,
)
from app.agent.offline.base import SCOPE, Declined, Outcome
from app.agent.offline.refusals import PERSONAL, REFUSALS
from app.agent.offline.routing import DOCUMENT_WORDS, route
from app.agent.request import Catalog, QuestionRequest, parse_question
from app.agent.result import Draft
from tools.agent_tools import known_entities
from tools.context import ToolContext

__all__ = ["PLANNER_VERSION", "Declined", "Outcome", "plan_and_answer", "route", "run_request"]


class IntentPlan(Protocol):
    """An intent's plan: tool calls from the question's entities, then templated text."""

    def __call__(
        self,
        q: str,
        e: Entities,
        intent: Intent,
        ctx: ToolContext,
        ev: Evidence,
        history: list[dict[str, Any]],
        names: dict[str, list[str]],
        /,
    ) -> tuple[str, dict[str, Any] | None]: ...


ExecutorPlan = Callable[[QuestionRequest, ToolContext, Evidence, dict[str, list[str]]], Outcome]

INTENT_PLANS: dict[str, IntentPlan] = {
    "refuse_secret": refusals.refuse_secret,
    "refuse_code": refusals.refuse_code,
    "refuse_out_of_scope": refusals.refuse_scope,
    "unknown_entity": refusals.unknown_entity,
    "unanswerable": refusals.unanswerable,
    "latest": features.latest,
    "beta_drawdown": features.latest,
    "compare": features.compare,
    "ranking": features.ranking,
    "history": features.history,
    "var_es": risk.var_es,
    "exposure": risk.exposure,
    "vol_regime": risk.vol_regime,
    "pd_issuer": credit.pd_issuer,
    "pd_loan": credit.pd_loan,
    "pd_profile": credit.pd_profile,
    "filing_number": fundamentals.filing_number,
    "filing_topic": documents.filing_topic,
    "macro": macro.macro_latest,
    "model_info": models.model_info,
    "followup": models.followup,
}
EXECUTOR_PLANS: dict[str, ExecutorPlan] = {
    "prices": windows.prices,
    "coverage": windows.data_coverage,
    "macro": macro.macro_period,
    "fundamentals": fundamentals.fundamentals_arithmetic,
    "loans": loans.loan_statistics,
}

PLANNER_VERSION = "offline-planner@1"


def plan_and_answer(
    question: str,
    ctx: ToolContext,
    evidence: Evidence,
    history: list[dict[str, Any]] | None = None,
    *,
    request: QuestionRequest | None = None,
) -> Draft:
    """Answer ``question`` with rule-based planning and templated text.

    The question is parsed into a ``QuestionRequest`` (or ``request`` is used: the LLM's, in plan
    mode); window, period and arithmetic questions run through the executor, the rest through the
    intent plans; either way every parsed constraint must be consumed, or the answer is a decline
    naming the ones left over.
    """
    names = known_entities(ctx)
    req = request or parse_question(question, Catalog.from_names(names))
    e = extract(question, set(names["tickers"]), set(names["portfolios"]))
    intent = classify(question, e, has_history=bool(history))
    details: dict[str, Any] = {
        "intent": intent.name,
        "intent_reason": intent.reason,
        "planner": PLANNER_VERSION,
        "request": req.model_dump(mode="json", exclude_defaults=True),
    }
    try:
        outcome = _plan(req, e, intent, ctx, evidence, history or [], names, details)
        text, chart, status = outcome.text, outcome.chart, "answered"
        if not text.strip():
            raise Declined("I found nothing that answers this, so I give no answer.")
        details["interpretation"] = outcome.interpretation or _interpret(intent, req)
        text = f"{text}\nInterpreted as: {details['interpretation']}."
    except Declined as exc:
        text, chart, status = str(exc), None, "refused"
        details["interpretation"] = f"declined ({intent.reason})"
    return Draft(text=text, status=status, chart=chart, llm="offline", details=details)


def _plan(
    req: QuestionRequest,
    e: Entities,
    intent: Intent,
    ctx: ToolContext,
    ev: Evidence,
    history: list[dict[str, Any]],
    names: dict[str, list[str]],
    details: dict[str, Any],
) -> Outcome:
    if intent.name in REFUSALS:
        INTENT_PLANS[intent.name](req.question, e, intent, ctx, ev, history, names)
    if req.personal_info:
        raise Declined(PERSONAL + SCOPE)
    family = route(req) if intent.name not in coverage.MODEL_INTENTS else None
    if family is not None:
        details["executor"] = family
        outcome = run_request(family, req, ctx, ev, names)
        missing = coverage.uncovered(req, outcome.consumed)
    else:
        about_documents = bool(DOCUMENT_WORDS.search(req.question))
        if intent.name == "filing_topic" and not about_documents and _data_shaped(req):
            # A figure for a name and a date is a data question: passages would answer another.
            if req.not_understood():
                raise Declined(coverage.decline_text(req.not_understood()))
            raise Declined(
                "I could not tell which quantity you are asking for, so I give no figure rather "
                "than passages about something else. Name the quantity (a price, return, "
                "volatility, volume, a line item or a macro series)."
            )
        handler = INTENT_PLANS.get(intent.name, refusals.unanswerable)
        text, chart = handler(req.question, e, intent, ctx, ev, history, names)
        outcome = Outcome(text, chart, coverage.consumed_by(intent.name, req))
        lenient = intent.name in coverage.LENIENT and (
            intent.name != "filing_topic" or about_documents
        )
        missing = coverage.uncovered(req, outcome.consumed, lenient=lenient)
    if missing:
        details["uncovered"] = [c.model_dump() for c in missing]
        raise Declined(coverage.decline_text(missing))
    return outcome


def _data_shaped(req: QuestionRequest) -> bool:
    """A question naming a date or window, or a quantity, of a ticker or series."""
    named = bool(req.tickers or req.macro_series)
    return named and bool(req.as_of or req.window or req.metric or req.lookback_days)


def _interpret(intent: Intent, req: QuestionRequest) -> str:
    """One line a reviewer can hold against the question (intent plans)."""
    parts = [intent.reason]
    if req.tickers:
        parts.append("for " + ", ".join(req.tickers))
    if req.features and intent.name in INTENT_CONSUMES:
        parts.append("stored feature " + ", ".join(req.features))
    if req.window is not None:
        parts.append(f"over {req.window.label or f'{req.window.start} to {req.window.end}'}")
    elif req.as_of is not None:
        parts.append(f"as of {req.as_of}")
    elif req.fiscal_years:
        parts.append("fiscal " + ", ".join(map(str, req.fiscal_years)))
    return "; ".join(parts)


def run_request(
    family: str, req: QuestionRequest, ctx: ToolContext, ev: Evidence, names: dict[str, list[str]]
) -> Outcome:
    """Run ``req`` through the family's handler (raises ``Declined`` with a plain reason)."""
    return EXECUTOR_PLANS[family](req, ctx, ev, names)
