"""Tool schemas in the JSON Schema subset that common OpenAI-compatible servers accept.

Servers compile tool schemas into decoding grammars, and their converters differ: llama.cpp's
crashed on the ticker ``pattern`` regexes; others reject ``format`` or ``$defs``. What goes on the
wire keeps only what every converter seen handles (type, properties, required, items, enum,
numeric bounds, short descriptions), with ``Optional[X]`` written as plain ``X``. Nothing is lost
for safety: the tools validate every argument themselves and tell the model what to fix.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

_KEEP = {"type", "properties", "required", "items", "enum", "minimum", "maximum", "description"}
DESCRIPTION_CHARS = 120


def portable_tools(tools: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``tools`` (OpenAI tool specs) with their parameter schemas cut to the portable subset."""
    out = []
    for tool in tools:
        spec = copy.deepcopy(dict(tool))
        function = spec.get("function") or {}
        params = function.get("parameters") or {"type": "object", "properties": {}}
        function["parameters"] = portable_schema(params, params.get("$defs") or {})
        if "description" in function:
            function["description"] = _short(str(function["description"]), 240)
        spec["function"] = function
        out.append(spec)
    return out


def portable_schema(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """One schema node in the portable subset (references inlined, ``X | None`` as ``X``)."""
    if "$ref" in schema:
        target = defs.get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
        return portable_schema({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, defs)
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key) or [] if o.get("type") != "null"]
        if len(options) == 1:
            merged = {**{k: v for k, v in schema.items() if k != key}, **options[0]}
            return portable_schema(merged, defs)
        if options:  # a real union: keep it, each branch portable
            return {key: [portable_schema(o, defs) for o in options]}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _KEEP:
            continue
        if key == "properties":
            out[key] = {name: portable_schema(sub, defs) for name, sub in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = portable_schema(value, defs)
        elif key == "description":
            out[key] = _short(str(value), DESCRIPTION_CHARS)
        else:
            out[key] = value
    if "const" in schema and "enum" not in out:
        out["enum"] = [schema["const"]]
    return out


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
