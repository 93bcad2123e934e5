"""The one interface every LLM backend implements, and the reply it returns.

``ChatModel.complete(messages, tools, on_text=None, response_format=None) -> Reply``: OpenAI-style
chat messages and tool schemas in, one assistant turn out (text and/or tool calls). A backend that
cannot answer raises ``LLMUnavailable``; the agent then falls back to the offline planner and marks
the answer degraded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ingestion.errors import StoreError

Message = dict[str, Any]
OnText = Callable[[str], None]


class LLMUnavailable(StoreError):
    """The LLM did not answer (server error, timeout, refused request, empty script)."""


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model asked for.

    ``arguments`` is None when the model's JSON could not be parsed; ``error`` then says why and
    ``raw_arguments`` keeps what it sent, so the loop can tell the model what to fix.
    """

    id: str
    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str = ""
    error: str | None = None


@dataclass(frozen=True)
class Reply:
    """One assistant turn: its text (never None), tool calls, token usage and the model name."""

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    finish_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class ChatModel(Protocol):
    """A chat model that can call tools."""

    name: str

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] = (),
        *,
        on_text: OnText | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Reply:
        """Answer one turn; stream text deltas to ``on_text`` when given.

        ``response_format`` asks for a reply constrained to a JSON schema (plan mode).

        Raises:
            LLMUnavailable: the backend could not produce a reply.
        """
        ...
