"""One client for every OpenAI-compatible server: OpenAI, Azure, vLLM, Ollama, llama.cpp server.

Only ``base_url`` and the key differ between them (DESIGN.md). Real servers differ in small ways,
so the client is liberal in what it accepts and careful in what it sends:

* an assistant message with ``content: None`` is rejected by some servers: we always send "";
* some servers ignore ``tools`` unless ``tool_choice="auto"`` is sent: we always send it;
* tool-call arguments that are not valid JSON become a ToolCall with ``error`` set (the loop tells
  the model what to fix) instead of an exception;
* any transport or server error becomes ``LLMUnavailable`` (the agent degrades to offline).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from app.llm.base import LLMUnavailable, Message, OnText, Reply, ToolCall


def sanitize_messages(messages: Sequence[Message]) -> list[Message]:
    """Messages as every server accepts them: content always a string, tool args as JSON text."""
    out = []
    for message in messages:
        m = dict(message)
        if m.get("content") is None:
            m["content"] = ""
        elif not isinstance(m["content"], str):
            m["content"] = json.dumps(m["content"], default=str)
        if m.get("tool_calls"):
            m["tool_calls"] = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {
                        "name": c["function"]["name"],
                        "arguments": c["function"].get("arguments") or "{}",
                    },
                }
                for c in m["tool_calls"]
            ]
        out.append(m)
    return out


def parse_arguments(call_id: str, name: str, raw: str | None) -> ToolCall:
    """A ToolCall from a server's argument text; bad JSON is kept with an error, not raised."""
    text = (raw or "").strip() or "{}"
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        return ToolCall(call_id, name, None, text, f"arguments are not valid JSON ({exc.msg})")
    if not isinstance(parsed, dict):
        return ToolCall(call_id, name, None, text, "arguments must be a JSON object")
    return ToolCall(call_id, name, parsed, text)


class OpenAICompatibleChatModel:
    """Chat completions with tool calling over the ``openai`` SDK, against any compatible server."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        stream: bool = True,
        temperature: float | None = 0.0,
    ) -> None:
        from openai import OpenAI

        self.model = model
        self.name = f"openai:{model}"
        self.stream = stream
        self.temperature = temperature
        # The SDK requires a key even for local servers that ignore it.
        self._client = OpenAI(
            api_key=api_key or "sk-no-key",
            base_url=base_url,
            timeout=timeout_s,
            max_retries=0,
        )

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] = (),
        *,
        on_text: OnText | None = None,
    ) -> Reply:
        """Send one chat turn; stream text to ``on_text``; any failure is LLMUnavailable."""
        import openai

        request: dict[str, Any] = {"model": self.model, "messages": sanitize_messages(messages)}
        if tools:
            request["tools"] = list(tools)
            request["tool_choice"] = "auto"
        if self.temperature is not None:
            request["temperature"] = self.temperature
        try:
            if self.stream:
                return self._streamed(request, on_text)
            return self._whole(request, on_text)
        except openai.APIStatusError as exc:
            raise LLMUnavailable(
                f"the LLM server answered HTTP {exc.status_code}: {_short(exc.message)}",
                hint="check SIGHTLINE_LLM, OPENAI_BASE_URL and OPENAI_API_KEY",
            ) from exc
        except openai.APITimeoutError as exc:
            raise LLMUnavailable(
                "the LLM server did not answer in time",
                hint="raise SIGHTLINE_LLM_TIMEOUT_S or check the server",
            ) from exc
        except openai.OpenAIError as exc:
            raise LLMUnavailable(
                f"the LLM server could not be used: {_short(str(exc))}",
                hint="check OPENAI_BASE_URL and that the server is running",
            ) from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # A reply that does not fit the protocol at all (not merely a quirk we tolerate).
            raise LLMUnavailable(f"the LLM server sent an unusable reply: {exc}") from exc

    def _whole(self, request: dict[str, Any], on_text: OnText | None) -> Reply:
        response = self._client.chat.completions.create(**request)
        if not response.choices:
            raise LLMUnavailable("the LLM server sent a reply without choices")
        choice = response.choices[0]
        content = choice.message.content or ""
        calls = tuple(
            parse_arguments(c.id or f"call_{i}", c.function.name, c.function.arguments)
            for i, c in enumerate(choice.message.tool_calls or [])
        )
        if on_text and content:
            on_text(content)
        usage = response.usage
        return Reply(
            content=content,
            tool_calls=calls,
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            model=response.model or self.model,
            finish_reason=choice.finish_reason or "",
        )

    def _streamed(self, request: dict[str, Any], on_text: OnText | None) -> Reply:
        stream = self._client.chat.completions.create(**request, stream=True)
        text: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        model, finish, prompt_tokens, completion_tokens = self.model, "", 0, 0
        chunks = 0
        for chunk in stream:
            chunks += 1
            model = chunk.model or model
            if chunk.usage:
                prompt_tokens = chunk.usage.prompt_tokens or prompt_tokens
                completion_tokens = chunk.usage.completion_tokens or completion_tokens
            for choice in chunk.choices or []:
                delta = choice.delta
                if delta is not None and delta.content:
                    text.append(delta.content)
                    if on_text:
                        on_text(delta.content)
                for part in (delta.tool_calls or []) if delta is not None else []:
                    slot = calls.setdefault(part.index or 0, {"id": "", "name": "", "args": ""})
                    if part.id:
                        slot["id"] = part.id
                    if part.function is not None:
                        slot["name"] += part.function.name or ""
                        slot["args"] += part.function.arguments or ""
                finish = choice.finish_reason or finish
        if chunks == 0:
            raise LLMUnavailable("the LLM server sent no stream events (is it OpenAI-compatible?)")
        tool_calls = tuple(
            parse_arguments(slot["id"] or f"call_{i}", slot["name"], slot["args"])
            for i, slot in sorted(calls.items())
        )
        return Reply(
            content="".join(text),
            tool_calls=tool_calls,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            model=model,
            finish_reason=finish,
        )


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
