"""Plan mode (``SIGHTLINE_LLM_MODE=plan``): the model returns a typed request, our code computes.

1. One call under ``response_format={"type": "json_schema", ...}`` (llama.cpp, vLLM and OpenAI all
   constrain decoding to it): the model fills the typed ``QuestionRequest`` of
   ``app.agent.request``.
2. Coverage: that request is held against the one the rules parsed from the same question — the
   tickers, the day, the window, the metric, ranking and arithmetic must agree; a disagreement gets
   one repair turn, then the offline answer (``degraded``) with the reason.
3. The deterministic path runs that request (``planner.plan_and_answer(request=...)``: the same
   executor, tools, templates, coverage and grounding as offline), so every figure comes from
   code, not from the model; the rules fill only the fields the model left empty.
4. A second call writes the prose around those figures; it must pass ``app.agent.acceptance``
   (grounded, on topic, no tool-call text, no refusal over data) and keep the computed figures.
   Otherwise: one repair turn, then the computed text is shown as ``degraded``.
"""

from __future__ import annotations

import json
from typing import Any

from app.agent import acceptance, budget, grounding
from app.agent.acceptance import (
    RULE_DECLINES,
    AnswerRejected,
    Scope,
    prompt_limit,
    question_scope,
    run_declined,
)
from app.agent.evidence import Evidence
from app.agent.prompts import load_prompt, prompt_versions
from app.agent.request import Catalog, QuestionRequest, parse_question, request_json_schema
from app.agent.result import Draft
from app.llm.base import ChatModel, Reply
from app.llm.schemas import portable_schema
from tools.agent_tools import known_entities
from tools.context import ToolContext

PROMPTS = ("plan", "prose", "answer_repair")
# The fields a model fills; the question, what the rules saw and could not map stay the rules'.
PLAN_FIELDS = (
    "tickers", "macro_series", "items", "features", "metric", "as_of", "window", "lookback_days",
    "fiscal_years", "aggregation", "ranking", "comparison", "arithmetic", "portfolio", "loan_id",
    "confidence", "horizon_days",
)  # fmt: skip


def plan_response_format() -> dict[str, Any]:
    """The ``response_format`` of the planning call: the request's schema, portable subset."""
    full = request_json_schema()
    wanted = {k: full["properties"][k] for k in PLAN_FIELDS if k in full["properties"]}
    schema = portable_schema({"type": "object", "properties": wanted}, full.get("$defs") or {})
    return {"type": "json_schema", "json_schema": {"name": "question_request", "schema": schema}}


def disagreements(llm: QuestionRequest, rules: QuestionRequest) -> list[str]:
    """Where the model's request differs from what the rules read in the question."""
    out = []
    mine, theirs = {t.upper() for t in llm.tickers}, {t.upper() for t in rules.tickers}
    if theirs and mine != theirs:
        out.append(f"tickers {sorted(mine)} but the question names {sorted(theirs)}")
    if rules.as_of and llm.as_of != rules.as_of and not llm.window:
        out.append(f"as_of {llm.as_of} but the question asks about {rules.as_of}")
    if rules.window and (
        llm.window is None or (llm.window.start, llm.window.end) != (rules.window.start,
                                                                      rules.window.end)
    ):  # fmt: skip
        got = f"{llm.window.start} to {llm.window.end}" if llm.window else "no window"
        out.append(f"{got} but the question asks about {rules.window.start} to {rules.window.end}")
    stored_instead = llm.metric is None and set(llm.features) & set(rules.features)
    if rules.metric and llm.metric != rules.metric and not stored_instead:
        out.append(f"metric {llm.metric} but the question asks for {rules.metric}")
    if bool(rules.ranking) != bool(llm.ranking):
        out.append(
            "a ranking" + (" is asked for" if rules.ranking else " the question does not ask")
        )
    if rules.arithmetic and (llm.arithmetic is None or llm.arithmetic.op != rules.arithmetic.op):
        out.append(f"the question asks for arithmetic ({rules.arithmetic.op})")
    return out


def merged(llm: QuestionRequest, rules: QuestionRequest) -> QuestionRequest:
    """The request that runs: the model's fields, with what the rules saw where it left a gap.

    Where both set a field they agree (``disagreements`` is empty by now); the rules' constraints
    stay, so coverage still holds the plan to every one of them.
    """
    update = {
        k: getattr(rules, k)
        for k in PLAN_FIELDS
        if getattr(llm, k) in (None, [], False) and getattr(rules, k) not in (None, [], False)
    }
    return llm.model_copy(update=update)


def run(
    model: ChatModel,
    question: str,
    ctx: ToolContext,
    evidence: Evidence,
    *,
    token_budget: int,
    history: list[dict[str, Any]] | None = None,
) -> Draft:
    """Answer ``question`` in plan mode (see the module docstring).

    Raises:
        LLMUnavailable: the model failed, or its request disagreed with the question after one
            repair (``AnswerRejected``); the caller degrades to the offline planner.
    """
    from app.agent import planner

    scope = question_scope(question, ctx, history)
    if scope.intent in RULE_DECLINES:
        return run_declined(model, question, ctx, evidence, history, scope)
    rules = parse_question(question, Catalog.from_names(known_entities(ctx)))
    draft = Draft(text="", llm=model.name, prompt=prompt_versions(PROMPTS))
    draft.details["llm_scope"] = {"intent": scope.intent, "mode": "plan"}
    limit = prompt_limit(model, token_budget)
    request = merged(_plan(model, question, rules, draft, limit), rules)
    computed = planner.plan_and_answer(question, ctx, evidence, history, request=request)
    draft.chart, draft.details["planner"] = computed.chart, computed.details
    if computed.status != "answered":
        draft.text, draft.status = computed.text, computed.status
        return draft
    _write(model, question, computed.text, evidence, scope, draft, limit)
    return draft


def _plan(
    model: ChatModel, question: str, rules: QuestionRequest, draft: Draft, limit: int
) -> QuestionRequest:
    fmt = plan_response_format()
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": load_prompt("plan").text},
        {"role": "user", "content": question},
    ]
    for attempt in range(2):
        _fits(messages, limit)
        reply = model.complete(messages, (), response_format=fmt)
        _account(draft, reply, messages)
        request, problems = _read_request(reply.content, question, rules)
        draft.details["plan"] = {
            "request": json.loads(request.model_dump_json()) if request else None,
            "problems": problems,
            "repaired": attempt > 0,
        }
        if request is not None and not problems:
            return request
        if attempt:
            raise AnswerRejected(f"the model's plan was not accepted: {'; '.join(problems)}")
        messages.append({"role": "assistant", "content": reply.content})
        messages.append(
            {
                "role": "user",
                "content": "That request cannot be run: "
                + "; ".join(problems)
                + ". Reply with the corrected JSON object only.",
            }
        )
    raise AnswerRejected("the model's plan was not accepted")  # pragma: no cover - loop returns


def _read_request(
    content: str, question: str, rules: QuestionRequest
) -> tuple[QuestionRequest | None, list[str]]:
    from pydantic import ValidationError

    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        return None, [f"the reply is not one JSON object ({exc.msg})"]
    if not isinstance(data, dict):
        return None, ["the reply must be one JSON object"]
    data = {k: v for k, v in data.items() if k in PLAN_FIELDS and v not in (None, "", [])}
    try:
        request = QuestionRequest.model_validate(
            {
                **data,
                "question": question,
                "unknown_tickers": rules.unknown_tickers,
                "personal_info": rules.personal_info,
                "constraints": [c.model_dump() for c in rules.constraints],
            }
        )
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        return None, problems
    return request, disagreements(request, rules)


def _write(
    model: ChatModel,
    question: str,
    computed: str,
    evidence: Evidence,
    scope: Scope,
    draft: Draft,
    limit: int,
) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": load_prompt("prose").text},
        {"role": "user", "content": f"Question: {question}\n\nComputed answer:\n{computed}"},
    ]
    figures = {c.text for c in grounding.claims(computed)}
    for attempt in range(2):
        pieces: list[str] = []
        _fits(messages, limit)
        reply = model.complete(messages, (), on_text=pieces.append)
        _account(draft, reply, messages)
        text = reply.content.strip()
        verdict = acceptance.check(text, question, evidence, terms=set(scope.terms))
        kept = {c.text for c in grounding.claims(text)}
        if verdict.ok and figures and not figures & kept:
            verdict.problems.append("the answer leaves out the computed figures")
        draft.details.setdefault("acceptance", []).append(
            {"ok": verdict.ok, "decline": verdict.decline, "problems": verdict.problems}
        )
        if verdict.ok and not verdict.decline:
            draft.text = text
            draft.stream = pieces if "".join(pieces) == text else []
            return
        if attempt:
            break
        messages.append({"role": "assistant", "content": text})
        repair = load_prompt("answer_repair").text.format(problems=verdict.feedback())
        messages.append({"role": "user", "content": repair})
    # The figures are computed and checked already: show them, marked as not the model's prose.
    reason = f"not accepted after one repair: {verdict.feedback() or 'a decline over data'}"
    draft.text, draft.status = computed, "degraded"
    draft.llm = f"offline (fallback from {model.name})"
    draft.warnings.append(f"{AnswerRejected.summary}, answered by the offline planner: {reason}")
    draft.details["degraded_reason"] = reason


def _fits(messages: list[dict[str, Any]], limit: int) -> None:
    if not budget.fit(messages, (), limit):
        raise AnswerRejected(f"the request does not fit {limit} prompt tokens")


def _account(draft: Draft, reply: Reply, messages: list[dict[str, Any]]) -> None:
    sent = budget.count_messages(messages)
    draft.prompt_tokens += reply.prompt_tokens or sent
    draft.completion_tokens += reply.completion_tokens or budget.count_tokens(reply.content)
    draft.details.setdefault("llm_requests", []).append(
        {"prompt_tokens": reply.prompt_tokens or sent, "counted": sent}
    )
    draft.warnings.extend(reply.extra.get("warnings", []))
