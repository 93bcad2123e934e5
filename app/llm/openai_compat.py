"""One client for every OpenAI-compatible server: OpenAI, Azure, vLLM, Ollama, llama.cpp server.

Only ``base_url`` and the key differ between them (DESIGN.md). Real servers differ in small ways,
so the client is liberal in what it accepts and careful in what it sends:

* an assistant message with ``content: None`` is rejected by some servers: we always send "";
* some servers ignore ``tools`` unless ``tool_choice="auto"`` is sent: we always send it;
* tool schemas go in the portable JSON Schema subset (``app.llm.schemas``): llama.cpp's grammar
  compiler crashed on regex ``pattern``s;
* ``max_tokens`` goes with every request, and the whole reply has one wall-clock limit (a reply
  that keeps streaming is cut at the deadline, not after each quiet chunk);
* tool calls written as text (JSON, ``<tool_call>``, ``functions.NAME:``) become typed calls
  (``app.llm.textcalls``), so they are never shown as an answer;
* tool-call arguments that are not valid JSON become a ToolCall with ``error`` set (the loop tells
  the model what to fix) instead of an exception;
* HTTP 429 and 5xx are retried with exponential backoff (tenacity), within the deadline;
* a stream that fails after HTTP 200 ("streaming tool choice is not supported") is asked again
  without streaming, and this client stops streaming; a stream that ends before its last chunk
  is an error, never a silently shortened reply;
* any other transport or server error becomes ``LLMUnavailable`` (the agent degrades to offline).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

from app.llm import textcalls
from app.llm.base import LLMUnavailable, Message, OnText, Reply, ToolCall
from app.llm.schemas import portable_tools

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


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


class StreamFailed(Exception):
    """A stream failed after HTTP 200, before any text was passed on (it can be asked again)."""


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
        max_tokens: int = 1024,
        retries: int = 2,
        context_tokens: int = 0,
        backoff_s: float = 0.5,
        mode: str = "tools",
    ) -> None:
        from openai import OpenAI

        self.model = model
        self.mode = mode  # SIGHTLINE_LLM_MODE: 'tools' or 'plan' (app.agent.llm_plan)
        self.name = f"openai:{model}"
        self.stream = stream
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._context = context_tokens or None
        self._context_probed = bool(context_tokens)
        self.warnings: list[str] = []
        self.json_object_format = False  # the server takes {"type": "json_object", "schema": ...}
        # The SDK requires a key even for local servers that ignore it; its own retries are off
        # (ours are bounded by the reply's deadline).
        self._client = OpenAI(
            api_key=api_key or "sk-no-key", base_url=base_url, timeout=timeout_s, max_retries=0
        )

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] = (),
        *,
        on_text: OnText | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Reply:
        """Send one chat turn; stream text to ``on_text``; any failure is LLMUnavailable.

        ``response_format`` (e.g. ``{"type": "json_schema", ...}``) asks the server to constrain
        the reply to a schema; such a reply is returned as text, never read as a tool call.
        """
        request: dict[str, Any] = {
            "model": self.model,
            "messages": sanitize_messages(messages),
            "max_tokens": self.max_tokens,
        }
        if tools:
            request["tools"] = portable_tools(tools)
            request["tool_choice"] = "auto"
        if response_format:
            request["response_format"] = (
                json_object_form(response_format) if self.json_object_format else response_format
            )
        if self.temperature is not None:
            request["temperature"] = self.temperature
        deadline = time.monotonic() + self.timeout_s
        reply = self._with_retries(request, on_text, deadline)
        return reply if response_format else textcalls.normalize(reply)

    def context_tokens(self) -> int | None:
        """The server's context window: the setting, else what the server says (once), else None."""
        if not self._context_probed:
            self._context_probed = True
            self._context = self._probe_context()
        return self._context

    # -- requests -------------------------------------------------------------------------------
    def _with_retries(
        self, request: dict[str, Any], on_text: OnText | None, deadline: float
    ) -> Reply:
        import openai
        from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

        def retryable(exc: BaseException) -> bool:
            return (
                isinstance(exc, openai.APIStatusError)
                and exc.status_code in RETRY_STATUSES
                and not _format_refused(exc, request)
            )

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            backoff = self.backoff_s * 2 ** (state.attempt_number - 1)
            after = _retry_after(exc)
            pause = min(max(backoff, after or 0.0), 10.0)
            if time.monotonic() + pause >= deadline:
                raise _translate(exc) if exc else LLMUnavailable("the LLM server did not answer")
            return pause

        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.retries + 1),
                wait=wait,
                retry=retry_if_exception(retryable),
                reraise=True,
            ):
                with attempt:
                    return self._once(request, on_text, deadline)
        except LLMUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure of the server becomes one error
            if _format_refused(exc, request):
                # llama-cpp-python knows only the older {"type": "json_object", "schema": ...}.
                self.json_object_format = True
                self.warnings.append("the server refused json_schema; sent as json_object")
                request["response_format"] = json_object_form(request["response_format"])
                return self._with_retries(request, on_text, deadline)
            raise _translate(exc) from exc
        raise LLMUnavailable(
            "the LLM server did not answer"
        )  # pragma: no cover - tenacity reraises

    def _once(self, request: dict[str, Any], on_text: OnText | None, deadline: float) -> Reply:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timeout(self.timeout_s)
        client = self._client.with_options(timeout=remaining)
        if not self.stream:
            return self._whole(client, request, on_text)
        try:
            return self._streamed(client, request, on_text, deadline)
        except StreamFailed as exc:
            # Seen on llama.cpp: HTTP 200, then an error event when the model picks a tool.
            self.stream = False
            self.warnings.append(
                f"the server's stream failed ({exc}); asked again without streaming"
            )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timeout(self.timeout_s) from exc
            return self._whole(self._client.with_options(timeout=remaining), request, on_text)

    def _whole(self, client: Any, request: dict[str, Any], on_text: OnText | None) -> Reply:
        response = client.chat.completions.create(**request)
        if not getattr(response, "choices", None):
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
            extra=self._take_warnings(),
        )

    def _streamed(
        self, client: Any, request: dict[str, Any], on_text: OnText | None, deadline: float
    ) -> Reply:
        import openai

        stream = client.chat.completions.create(**request, stream=True)
        expired = threading.Event()

        def cut() -> None:  # the whole reply's deadline: close the stream from outside
            expired.set()
            stream.close()

        timer = threading.Timer(max(deadline - time.monotonic(), 0.0), cut)
        timer.daemon = True
        timer.start()
        acc = _Accumulator(self.model)
        try:
            for chunk in stream:
                if expired.is_set():
                    break
                acc.add(chunk, on_text)
        except openai.APIError as exc:
            if expired.is_set():
                raise _timeout(self.timeout_s) from exc
            if acc.text_sent or acc.chunks > 1 and (acc.text or acc.calls):
                raise LLMUnavailable(
                    f"the LLM server's stream failed mid-reply: {_short(exc.message)}"
                ) from exc
            raise StreamFailed(_short(exc.message)) from exc
        except Exception as exc:  # noqa: BLE001 - a closed or broken connection mid-stream
            if expired.is_set():
                raise _timeout(self.timeout_s) from exc
            raise
        finally:
            timer.cancel()
        if expired.is_set():
            raise _timeout(self.timeout_s)
        if acc.chunks == 0:
            raise LLMUnavailable("the LLM server sent no stream events (is it OpenAI-compatible?)")
        if not acc.finish:
            raise LLMUnavailable(
                "the LLM server's stream ended before the reply was complete (no finish_reason)",
                hint="check the server's log; try SIGHTLINE_LLM_STREAM=false",
            )
        return acc.reply(self._take_warnings())

    def _take_warnings(self) -> dict[str, Any]:
        if not self.warnings:
            return {}
        taken, self.warnings = self.warnings, []
        return {"warnings": taken}

    def _probe_context(self) -> int | None:
        """Ask the server for its context size: llama.cpp ``/props``, then ``/v1/models`` meta."""
        import httpx

        base = str(self._client.base_url).rstrip("/")
        root = base.removesuffix("/v1")
        for url in (f"{root}/props", f"{base}/models"):
            try:
                response = httpx.get(url, timeout=min(self.timeout_s, 5.0))
                if response.status_code == 200:
                    found = _context_from(response.json(), self.model)
                    if found:
                        return found
            except (httpx.HTTPError, ValueError):
                continue
        return None


class _Accumulator:
    """The pieces of a streamed reply, put together as they arrive."""

    def __init__(self, model: str) -> None:
        self.model, self.finish = model, ""
        self.text: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.prompt_tokens = self.completion_tokens = self.chunks = 0
        self.text_sent = False

    def add(self, chunk: Any, on_text: OnText | None) -> None:
        self.chunks += 1
        self.model = chunk.model or self.model
        if chunk.usage:
            self.prompt_tokens = chunk.usage.prompt_tokens or self.prompt_tokens
            self.completion_tokens = chunk.usage.completion_tokens or self.completion_tokens
        for choice in chunk.choices or []:
            delta = choice.delta
            if delta is not None and delta.content:
                self.text.append(delta.content)
                if on_text:
                    self.text_sent = True
                    on_text(delta.content)
            for part in (delta.tool_calls or []) if delta is not None else []:
                slot = self.calls.setdefault(part.index or 0, {"id": "", "name": "", "args": ""})
                if part.id:
                    slot["id"] = part.id
                if part.function is not None:
                    slot["name"] += part.function.name or ""
                    slot["args"] += part.function.arguments or ""
            self.finish = choice.finish_reason or self.finish

    def reply(self, extra: dict[str, Any]) -> Reply:
        tool_calls = tuple(
            parse_arguments(slot["id"] or f"call_{i}", slot["name"], slot["args"])
            for i, slot in sorted(self.calls.items())
        )
        return Reply(
            content="".join(self.text),
            tool_calls=tool_calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            model=self.model,
            finish_reason=self.finish,
            extra=extra,
        )


def json_object_form(response_format: dict[str, Any]) -> dict[str, Any]:
    """A ``json_schema`` response format in the older ``json_object`` + ``schema`` form."""
    if response_format.get("type") != "json_schema":
        return response_format
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    return {"type": "json_object", "schema": schema}


def _format_refused(exc: BaseException, request: dict[str, Any]) -> bool:
    import openai

    fmt = request.get("response_format") or {}
    # llama-cpp-python answers its own validation error with HTTP 500.
    return (
        fmt.get("type") == "json_schema"
        and isinstance(exc, openai.APIStatusError)
        and (exc.status_code in (400, 422) or "response_format" in str(exc.message))
    )


def _context_from(payload: Any, model: str) -> int | None:
    if not isinstance(payload, dict):
        return None
    settings = payload.get("default_generation_settings") or {}
    for value in (settings.get("n_ctx"), payload.get("n_ctx")):
        if isinstance(value, int) and value > 0:
            return value
    for entry in payload.get("data") or []:
        if not isinstance(entry, dict):
            continue
        meta = entry.get("meta") or {}
        for value in (entry.get("max_model_len"), meta.get("n_ctx"), entry.get("context_length")):
            if isinstance(value, int) and value > 0:
                return value
    return None


def _retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    try:
        return float(header) if header else None
    except ValueError:
        return None


def _timeout(seconds: float) -> LLMUnavailable:
    return LLMUnavailable(
        f"the LLM server did not finish its reply within {seconds:g} s",
        hint="raise SIGHTLINE_LLM_TIMEOUT_S or lower SIGHTLINE_LLM_MAX_TOKENS",
    )


def _translate(exc: BaseException) -> LLMUnavailable:
    import openai

    if isinstance(exc, LLMUnavailable):
        return exc
    if isinstance(exc, openai.APIStatusError):
        return LLMUnavailable(
            f"the LLM server answered HTTP {exc.status_code}: {_short(exc.message)}",
            hint="check SIGHTLINE_LLM, OPENAI_BASE_URL and OPENAI_API_KEY",
        )
    if isinstance(exc, openai.APITimeoutError):
        return LLMUnavailable(
            "the LLM server did not answer in time",
            hint="raise SIGHTLINE_LLM_TIMEOUT_S or check the server",
        )
    if isinstance(exc, openai.OpenAIError):
        return LLMUnavailable(
            f"the LLM server could not be used: {_short(str(exc))}",
            hint="check OPENAI_BASE_URL and that the server is running",
        )
    # A reply that does not fit the protocol at all (not merely a quirk we tolerate).
    return LLMUnavailable(f"the LLM server sent an unusable reply: {_short(str(exc))}")


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
