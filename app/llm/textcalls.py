"""Tool calls that open models write as text, read into the same typed calls as native ones.

Many open models (and servers running them with their own chat template) do not fill the
``tool_calls`` field: they write the call in the message text. The forms seen on real servers:

* a JSON object ``{"name": ..., "arguments": {...}}`` (or ``parameters``), alone or in a list;
* Hermes/Qwen ``<tool_call>{...}</tool_call>`` blocks;
* llama.cpp ``chatml-function-calling`` stubs ``functions.NAME:{...}`` (or ``functions.NAME:``);
* any of these inside a fenced code block.

``read_text_calls`` turns them into ``ToolCall``s. Text that looks like a tool call but cannot be
read (cut-off JSON, a stub without arguments) is kept as a call with ``error`` set, so the loop
tells the model what to fix: such text is never shown as an answer. Whether a name is a real
tool is the loop's decision (an unknown name such as ``os.system`` is refused and logged there).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from app.llm.base import Reply, ToolCall

UNREADABLE = "unreadable_tool_call"
_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_FUNCTIONS = re.compile(r"(?:^|[\s>`])functions\.([A-Za-z_][\w.\-]*)\s*:?", re.M)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)(?:```|$)", re.S)
# Shapes that mean "this was meant as a call" even when the JSON around them is broken.
_CALL_HINT = re.compile(
    r'"(?:name|function|tool|tool_name)"\s*:\s*"[^"]*"\s*,?\s*("(?:arguments|parameters|args|'
    r'tool_input|input)"\s*:)?|<tool_call>|\bfunctions\.[A-Za-z_]',
)
_NAME_KEYS = ("name", "tool", "tool_name", "function")
_ARG_KEYS = ("arguments", "parameters", "args", "tool_input", "input")
_decoder = json.JSONDecoder()


def looks_like_tool_call(text: str) -> bool:
    """Whether ``text`` is (or contains) something written as a tool call rather than prose."""
    stripped = text.strip()
    if not stripped:
        return False
    if _CALL_HINT.search(stripped):
        return True
    # A reply that is nothing but a JSON object or array is not an answer an analyst reads.
    body = _unfence(stripped)
    return body[:1] in "{[" and body[-1:] in "}]"


def read_text_calls(text: str) -> tuple[ToolCall, ...]:
    """The tool calls written in ``text`` (often none); unreadable ones keep an error."""
    if not looks_like_tool_call(text):
        return ()
    calls: list[ToolCall] = []
    for block in _HERMES.findall(text):
        calls.extend(_from_json_text(block, len(calls)))
    if not calls and _FUNCTIONS.search(text):
        calls.extend(_from_functions(text))
    if not calls:
        for block in _FENCE.findall(text) or [text]:
            calls.extend(_from_json_text(block, len(calls), scan=True))
    if not calls:
        calls.append(_unreadable(0, text, "the reply looks like a tool call but is not valid JSON"))
    return tuple(calls)


def normalize(reply: Reply) -> Reply:
    """``reply`` with tool calls written as text moved into ``tool_calls`` (and out of the text)."""
    if reply.tool_calls or not reply.content.strip():
        return reply
    calls = read_text_calls(reply.content)
    if not calls:
        return reply
    extra = {**reply.extra, "text_tool_calls": reply.content}
    return replace(reply, content="", tool_calls=calls, extra=extra)


def _from_functions(text: str) -> list[ToolCall]:
    out: list[ToolCall] = []
    for match in _FUNCTIONS.finditer(text):
        name = match.group(1).rstrip(".")
        rest = text[match.end() :].lstrip()
        if rest.startswith("{"):
            try:
                args, _end = _decoder.raw_decode(rest)
            except json.JSONDecodeError as exc:
                out.append(_unreadable(len(out), rest, f"arguments are not valid JSON ({exc.msg})"))
                continue
            out.append(_call(len(out), name, args))
        else:
            out.append(
                ToolCall(
                    f"text_call_{len(out)}",
                    name,
                    None,
                    "",
                    f"'functions.{name}:' came without arguments: send one JSON object",
                )
            )
    return out


def _from_json_text(text: str, start: int, *, scan: bool = False) -> list[ToolCall]:
    """Calls from JSON in ``text``: the whole text, or (``scan``) every object found in it."""
    out: list[ToolCall] = []
    body = text.strip()
    values: list[Any] = []
    try:
        values.append(json.loads(body))
    except json.JSONDecodeError as exc:
        if not scan:
            return [_unreadable(start, body, f"the tool call is not valid JSON ({exc.msg})")]
        values.extend(_objects_in(body))
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            call = _call_from_object(start + len(out), item)
            if call is not None:
                out.append(call)
    return out


def _objects_in(text: str) -> list[Any]:
    found, i = [], text.find("{")
    while i != -1:
        try:
            value, end = _decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        found.append(value)
        i = text.find("{", end)
    return found


def _call_from_object(index: int, item: Any) -> ToolCall | None:
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("function"), dict):  # {"type": "function", "function": {...}}
        item = item["function"]
    name = next((item[k] for k in _NAME_KEYS if isinstance(item.get(k), str)), None)
    if name is None:
        return None
    args: Any = next((item[k] for k in _ARG_KEYS if k in item), {})
    return _call(index, name, args)


def _call(index: int, name: str, args: Any) -> ToolCall:
    call_id = f"text_call_{index}"
    if isinstance(args, str):  # arguments sent as JSON text, as the native field carries them
        try:
            args = json.loads(args or "{}")
        except json.JSONDecodeError as exc:
            return ToolCall(call_id, name, None, args, f"arguments are not valid JSON ({exc.msg})")
    if not isinstance(args, dict):
        return ToolCall(call_id, name, None, json.dumps(args), "arguments must be a JSON object")
    return ToolCall(call_id, name, args, json.dumps(args))


def _unreadable(index: int, raw: str, why: str) -> ToolCall:
    return ToolCall(f"text_call_{index}", UNREADABLE, None, raw[:2000], why)


def _unfence(text: str) -> str:
    match = _FENCE.fullmatch(text)
    return match.group(1).strip() if match else text
