"""The scripted chat model: replies come from a queue, so tests drive the agent loop exactly.

Selected like any backend (``SIGHTLINE_LLM=scripted``). ``enqueue`` adds replies (text or tool
calls); each ``complete`` takes the next one and records the messages it was sent. An empty queue
raises ``LLMUnavailable`` — which is also how tests exercise the degrade-to-offline path.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import deque
from collections.abc import Sequence
from typing import Any

from app.llm.base import LLMUnavailable, Message, OnText, Reply, ToolCall

_ids = itertools.count(1)


def tool_call(name: str, arguments: dict[str, Any] | str, call_id: str | None = None) -> ToolCall:
    """A tool call for a script; a str ``arguments`` is parsed like a server's JSON would be."""
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments)
            error = None if isinstance(parsed, dict) else "arguments must be a JSON object"
        except json.JSONDecodeError as exc:
            parsed, error = None, f"arguments are not valid JSON: {exc.msg}"
        return ToolCall(
            id=call_id or f"call_{next(_ids)}",
            name=name,
            arguments=parsed if error is None else None,
            raw_arguments=arguments,
            error=error,
        )
    return ToolCall(
        id=call_id or f"call_{next(_ids)}",
        name=name,
        arguments=dict(arguments),
        raw_arguments=json.dumps(arguments),
    )


class ScriptedChatModel:
    """A chat model whose replies are queued in advance (a test double shipped in the package)."""

    name = "scripted"

    def __init__(self, replies: Sequence[Reply | str] = (), *, mode: str = "tools") -> None:
        self.mode = mode  # 'tools' or 'plan', as SIGHTLINE_LLM_MODE selects for real backends
        self.queue: deque[Reply] = deque()
        self.requests: list[list[Message]] = []
        self.tools_sent: list[list[str]] = []  # tool names offered in each request
        self.formats: list[dict[str, Any] | None] = []  # response_format of each request
        self.enqueue(*replies)

    def enqueue(self, *replies: Reply | str) -> ScriptedChatModel:
        """Add replies (a str is a final text answer)."""
        for reply in replies:
            self.queue.append(Reply(content=reply) if isinstance(reply, str) else reply)
        return self

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] = (),
        *,
        on_text: OnText | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Reply:
        """Return the next queued reply (streaming its text word by word to ``on_text``)."""
        self.requests.append([dict(m) for m in messages])
        self.tools_sent.append([t["function"]["name"] for t in tools])
        self.formats.append(response_format)
        if not self.queue:
            raise LLMUnavailable("the scripted model has no reply queued")
        reply = self.queue.popleft()
        if on_text and reply.content:
            for piece in re.findall(r"\S+\s*|\s+", reply.content):
                on_text(piece)
        return Reply(
            content=reply.content,
            tool_calls=reply.tool_calls,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            model=reply.model or self.name,
            finish_reason=reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop"),
        )


_DEFAULT = ScriptedChatModel()


def default_script() -> ScriptedChatModel:
    """The process-wide scripted model that ``SIGHTLINE_LLM=scripted`` selects."""
    return _DEFAULT
