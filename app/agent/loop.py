"""The LLM agent loop: the model plans and writes; our tools, limits and acceptance checks apply.

Before the model is asked, the question is read with the offline rules (``question_scope``):
questions the planner declines (secrets, code, advice, forecasts, off-topic) are declined here
too, without a model call, and the rest get only the tools their intent can need. Each turn the
model may call tools (at most ``max_tool_calls`` per question; tool calls written as text count
the same) or write the answer. The request is kept under the token budget, itself kept inside
the server's context. A final text must pass ``app.agent.acceptance`` (its coverage part holds
the model's tool arguments to the question's parsed constraints); if it fails, the model
gets one repair turn with the problems listed, then ``AnswerRejected`` (an ``LLMUnavailable``)
sends the caller to the offline planner, which answers ``degraded`` with the reason recorded.
A model whose ``mode`` is ``plan`` (``SIGHTLINE_LLM_MODE=plan``) goes to ``app.agent.llm_plan``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from app.agent import acceptance, budget, llm_plan
from app.agent.acceptance import (
    OPEN_INTENTS,
    RULE_DECLINES,
    AnswerRejected,
    prompt_limit,
    question_scope,
    run_declined,
)
from app.agent.coverage import check_tool_args
from app.agent.evidence import Evidence
from app.agent.prompts import load_prompt, prompt_versions
from app.agent.request import Catalog, QuestionRequest, parse_question
from app.agent.result import Draft
from app.agent.toolbox import execute
from app.llm import textcalls
from app.llm.base import ChatModel, Reply, ToolCall
from tools.agent_tools import TOOLS, known_entities, openai_schemas
from tools.context import ToolContext

_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+", re.IGNORECASE)


def history_messages(history: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Earlier turns of the conversation as chat messages (question, then answer)."""
    out: list[dict[str, Any]] = []
    for turn in history or []:
        if turn.get("question"):
            out.append({"role": "user", "content": str(turn["question"])})
        if turn.get("answer"):
            out.append({"role": "assistant", "content": str(turn["answer"])})
    return out[-8:]


def run(
    model: ChatModel,
    question: str,
    ctx: ToolContext,
    evidence: Evidence,
    *,
    max_tool_calls: int,
    token_budget: int,
    history: list[dict[str, Any]] | None = None,
) -> Draft:
    """Answer ``question`` with ``model`` driving the tools.

    Raises:
        LLMUnavailable: the model failed, or its answer was not accepted (``AnswerRejected``);
            the caller degrades to the offline planner.
    """
    if getattr(model, "mode", "tools") == "plan":
        return llm_plan.run(
            model, question, ctx, evidence, token_budget=token_budget, history=history
        )
    scope = question_scope(question, ctx, history)
    if scope.intent in RULE_DECLINES:
        return run_declined(model, question, ctx, evidence, history, scope)
    schemas = budget.tools_for(scope.intent, openai_schemas())
    limit = prompt_limit(model, token_budget)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": load_prompt("system").text},
        *history_messages(history),
        {"role": "user", "content": question},
    ]
    draft = Draft(text="", llm=model.name, prompt=prompt_versions())
    rules = parse_question(question, Catalog.from_names(known_entities(ctx)))
    first_call = len(evidence.calls)
    draft.details["llm_scope"] = {
        "intent": scope.intent,
        "tools": [s["function"]["name"] for s in schemas],
        "prompt_limit": limit,
    }
    calls, repaired = 0, False
    for _turn in range(max_tool_calls + 3):  # tool turns + final + one repair
        if not budget.fit(messages, schemas, limit):
            raise AnswerRejected(
                f"the request does not fit {limit} prompt tokens",
                hint="raise SIGHTLINE_TOKEN_BUDGET or the server's context (SIGHTLINE_LLM_CONTEXT_"
                "TOKENS)",
            )
        pieces: list[str] = []
        reply = textcalls.normalize(model.complete(messages, schemas, on_text=pieces.append))
        _account(draft, reply, messages, schemas)
        if reply.tool_calls:
            messages.append(_assistant(reply))
            for call in reply.tool_calls:
                messages.append(_tool_message(call, ctx, evidence, calls >= max_tool_calls, draft))
                calls += 1
            continue
        text, removed = _strip_links(reply.content.strip())
        if removed:
            draft.warnings.append(f"removed {removed} link(s) from the model's answer")
        verdict = acceptance.check(
            text,
            question,
            evidence,
            terms=set(scope.terms),
            coverage=lambda _text: call_mismatches(rules, evidence.calls[first_call:]),
            must_try=scope.intent not in OPEN_INTENTS and calls == 0,
        )
        if reply.finish_reason == "length":
            verdict.problems.append("the answer was cut off (max_tokens): answer in fewer words")
        _record_verdict(draft, verdict, repaired)
        if verdict.ok:
            draft.text = text
            if verdict.decline:
                draft.status = "refused"
            if "".join(pieces) == text:
                draft.stream = pieces  # the server's own deltas, shown once recorded
            return draft
        if repaired:
            raise AnswerRejected(f"not accepted after one repair: {verdict.feedback()}")
        repaired = True
        messages.append({"role": "assistant", "content": text})
        repair = load_prompt("answer_repair").text.format(problems=verdict.feedback())
        messages.append({"role": "user", "content": repair})
    raise AnswerRejected("the step limit was reached before an accepted answer")


def call_mismatches(rules: QuestionRequest, calls: list[Any]) -> list[str]:
    """The model's tool calls held to the question's parsed constraints (``check_tool_args``).

    A tool counts as mismatched only when none of its calls that ran fits: a model that fixed a
    call after the repair message is not held to its first try.
    """
    by_tool: dict[str, list[list[str]]] = {}
    for call in calls:
        if call.error:  # refused calls returned no data to answer from
            continue
        by_tool.setdefault(call.tool, []).append(check_tool_args(rules, call.tool, call.args))
    return [
        f"the tool calls do not fit the question: {problem}"
        for results in by_tool.values()
        if all(results)
        for problem in results[-1]
    ]


def _account(
    draft: Draft, reply: Reply, messages: list[dict[str, Any]], schemas: list[dict[str, Any]]
) -> None:
    sent = budget.count_messages(messages, schemas)
    draft.prompt_tokens += reply.prompt_tokens or sent
    draft.completion_tokens += reply.completion_tokens or budget.count_tokens(reply.content)
    draft.details.setdefault("llm_requests", []).append(
        {"prompt_tokens": reply.prompt_tokens or sent, "counted": sent}
    )
    draft.warnings.extend(reply.extra.get("warnings", []))
    if reply.extra.get("text_tool_calls"):
        draft.details["text_tool_calls"] = draft.details.get("text_tool_calls", 0) + 1


def _record_verdict(draft: Draft, verdict: acceptance.Verdict, repaired: bool) -> None:
    report = verdict.report
    draft.details["grounding"] = {
        "checked": report.checked if report else 0,
        "ungrounded": report.ungrounded if report else [],
        "bad_citations": report.bad_citations if report else [],
        "retried": repaired,
    }
    draft.details.setdefault("acceptance", []).append(
        {"ok": verdict.ok, "decline": verdict.decline, "problems": verdict.problems}
    )


def _assistant(reply: Reply) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": reply.content or "",  # some servers reject None here
        "tool_calls": [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.raw_arguments or "{}"},
            }
            for c in reply.tool_calls
        ],
    }


def _tool_message(
    call: ToolCall, ctx: ToolContext, evidence: Evidence, over_cap: bool, draft: Draft
) -> dict[str, Any]:
    if over_cap:
        content: Any = {
            "error": "tool-call limit reached for this question",
            "hint": "answer now from the results you have, or say what is missing",
        }
    elif call.name not in TOOLS:
        # Never run, never passed on: refused and logged (a model once asked for os.system).
        unreadable = call.name == textcalls.UNREADABLE
        draft.warnings.append(
            "rejected an unreadable tool call written as text"
            if unreadable
            else f"rejected a call to unknown tool {call.name!r}"
        )
        draft.details.setdefault("rejected_calls", []).append(
            {"tool": call.name, "arguments": (call.raw_arguments or "")[:500], "why": call.error}
        )
        content = {
            "error": call.error if unreadable else f"unknown tool {call.name!r}",
            "hint": f"call one of: {', '.join(TOOLS)}, with one JSON object of arguments",
        }
    elif call.error or call.arguments is None:
        content = {
            "error": call.error or "missing arguments",
            "hint": "send the arguments as one JSON object that fits the tool schema",
        }
    else:
        result = execute(ctx, evidence, call.name, call.arguments)
        numbered = (
            evidence.numbered(result.get("passages", []))
            if call.name == "search_documents" and isinstance(result, dict)
            else None
        )
        return {
            "role": "tool",
            "tool_call_id": call.id,
            "content": budget.render_result(call.name, result, numbered),
        }
    return {"role": "tool", "tool_call_id": call.id, "content": json.dumps(content)}


def _strip_links(text: str) -> tuple[str, int]:
    # Links in an answer can carry data out (EchoLeak): the model may not emit any.
    found = _URL.findall(text)
    return _URL.sub("[link removed]", text), len(found)
