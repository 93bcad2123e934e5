"""The LLM agent loop: the model plans and writes; our tools, limits and grounding check apply.

Each turn the model may call tools (at most ``max_tool_calls`` per question) or write the answer.
The request is kept under the token budget (largest tool results are cut first). A final answer
must pass the grounding check; if it fails, the model gets one retry with the problems listed,
then the extractive answer is used and the answer is marked ``flagged``. Any LLM failure raises
``LLMUnavailable`` to the caller, which degrades to the offline planner.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from app.agent import budget, grounding
from app.agent.evidence import Evidence
from app.agent.prompts import load_prompt, prompt_versions
from app.agent.result import Draft
from app.agent.toolbox import execute
from app.llm.base import ChatModel, LLMUnavailable, Reply
from tools.agent_tools import openai_schemas
from tools.context import ToolContext

Extractive = Callable[[str, Evidence], str]
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
    extractive: Extractive,
    history: list[dict[str, Any]] | None = None,
) -> Draft:
    """Answer ``question`` with ``model`` driving the tools.

    Raises:
        LLMUnavailable: the model failed; the caller degrades to the offline planner.
    """
    system = load_prompt("system")
    schemas = openai_schemas()
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system.text},
        *history_messages(history),
        {"role": "user", "content": question},
    ]
    draft = Draft(text="", llm=model.name, prompt=prompt_versions())
    calls = 0
    retried = False
    for _turn in range(max_tool_calls + 3):  # tool turns + final + one grounding retry
        if not budget.fit(messages, schemas, token_budget):
            draft.warnings.append("token budget reached: answered from the evidence gathered")
            return _fallback(draft, question, evidence, extractive, "token budget reached")
        reply = model.complete(messages, schemas)
        draft.prompt_tokens += reply.prompt_tokens or budget.count_messages(messages, schemas)
        draft.completion_tokens += reply.completion_tokens or budget.count_tokens(reply.content)
        if reply.tool_calls:
            messages.append(_assistant(reply))
            for call in reply.tool_calls:
                messages.append(_tool_message(call, ctx, evidence, calls >= max_tool_calls))
                calls += 1
            continue
        text, removed = _strip_links(reply.content.strip())
        if removed:
            draft.warnings.append(f"removed {removed} link(s) from the model's answer")
        if not text:
            raise LLMUnavailable("the model returned an empty answer")
        report = grounding.check(text, evidence, question)
        draft.details["grounding"] = {
            "checked": report.checked,
            "ungrounded": report.ungrounded,
            "bad_citations": report.bad_citations,
            "retried": retried,
        }
        if report.ok:
            draft.text = text
            return draft
        if retried:
            draft.warnings.append(f"grounding failed twice ({report.feedback()})")
            return _fallback(draft, question, evidence, extractive, "grounding failed")
        retried = True
        messages.append({"role": "assistant", "content": text})
        retry = load_prompt("grounding_retry").text.format(problems=report.feedback())
        messages.append({"role": "user", "content": retry})
    draft.warnings.append("step limit reached before a final answer")
    return _fallback(draft, question, evidence, extractive, "step limit reached")


def _fallback(
    draft: Draft, question: str, evidence: Evidence, extractive: Extractive, why: str
) -> Draft:
    draft.text = extractive(question, evidence)
    draft.status = "flagged"
    draft.details["fallback"] = why
    return draft


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


def _tool_message(call: Any, ctx: ToolContext, evidence: Evidence, over_cap: bool) -> dict:
    if over_cap:
        content = (
            '{"error": "tool-call limit reached for this question", '
            '"hint": "answer now from the results you have, or say what is missing"}'
        )
    elif call.error or call.arguments is None:
        content = (
            f'{{"error": "{call.error or "missing arguments"}", '
            '"hint": "send the arguments as one JSON object that fits the tool schema"}'
        )
    else:
        result = execute(ctx, evidence, call.name, call.arguments)
        numbered = (
            evidence.numbered(result.get("passages", []))
            if call.name == "search_documents" and isinstance(result, dict)
            else None
        )
        content = budget.render_result(call.name, result, numbered)
    return {"role": "tool", "tool_call_id": call.id, "content": content}


def _strip_links(text: str) -> tuple[str, int]:
    # Links in an answer can carry data out (EchoLeak): the model may not emit any.
    found = _URL.findall(text)
    return _URL.sub("[link removed]", text), len(found)
