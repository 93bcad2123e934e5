"""Market events on the wire: one JSON object per broker message, checked before anyone uses it.

Three kinds, one JetStream stream each (``ingestion.events.broker``): top-of-book ``quote``,
executed ``trade`` and daily ``bar``. A message is a JSON object with a ``kind`` and the fields
below; anything else is a ``MalformedEvent`` (an ``InputError``) that names what is wrong, so the
consumer can count it and move on. Whether a well-formed event makes sense (a crossed quote, a
late bar) is the streaming engine's policy, not this module's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from ingestion.errors import InputError

# kind -> (stream name, subject prefix); subjects are PREFIX.TICKER
STREAMS: dict[str, tuple[str, str]] = {
    "quote": ("QUOTES", "sightline.quotes"),
    "trade": ("TRADES", "sightline.trades"),
    "bar": ("BARS", "sightline.bars"),
}
# kind -> required fields (name -> type); optional fields may be null or absent
REQUIRED: dict[str, dict[str, str]] = {
    "quote": {"ticker": "str", "ts": "datetime", "bid": "float", "ask": "float",
              "bid_size": "float", "ask_size": "float"},
    "trade": {"ticker": "str", "ts": "datetime", "price": "float", "size": "float"},
    "bar": {"ticker": "str", "date": "date", "adj_close": "float"},
}  # fmt: skip
# ``source`` labels where an event comes from (the demo's are "synthetic:...").
OPTIONAL: dict[str, dict[str, str]] = {
    "quote": {"source": "str"},
    "trade": {"source": "str"},
    "bar": {"close": "float", "volume": "float", "source": "str"},
}
TICKER = re.compile(r"^[A-Z^][A-Z0-9.\-^=]{0,14}$")
MAX_MESSAGE_BYTES = 4096


class MalformedEvent(InputError):
    """A broker message that is not a valid event (bad JSON, unknown kind, missing field)."""


def subject_for(kind: str, ticker: str) -> str:
    """The subject an event of ``kind`` for ``ticker`` is published on (``.`` becomes ``_``)."""
    return f"{STREAMS[kind][1]}.{ticker.replace('.', '_')}"


def encode_event(event: Mapping[str, Any]) -> tuple[str, bytes]:
    """(subject, payload) of one event dict; the dict is checked first (MalformedEvent)."""
    checked = check_event(event)
    payload = json.dumps(
        {k: v.isoformat() if isinstance(v, date) else v for k, v in checked.items()},
        separators=(",", ":"),
    ).encode()
    return subject_for(checked["kind"], checked["ticker"]), payload


def decode_event(payload: bytes) -> dict[str, Any]:
    """The checked event dict (``ts`` a datetime, ``date`` a date) of one message payload.

    Raises:
        MalformedEvent: Not JSON, not an object, unknown kind, a field missing or mistyped.
    """
    if len(payload) > MAX_MESSAGE_BYTES:
        raise MalformedEvent(f"message of {len(payload)} bytes (limit {MAX_MESSAGE_BYTES})")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedEvent(f"not JSON: {exc}", hint=_HINT) from None
    if not isinstance(data, dict):
        raise MalformedEvent("a message must be a JSON object", hint=_HINT)
    fast = _fast_quote(data) if data.get("kind") == "quote" else None
    return fast if fast is not None else check_event(data)


_QUOTE_KEYS = frozenset(("kind", *REQUIRED["quote"], *OPTIONAL["quote"]))


def _fast_quote(data: dict[str, Any]) -> dict[str, Any] | None:
    """A well-formed quote converted without per-field dispatch (the hot path), else None.

    None sends the message through ``check_event``, which accepts the same quotes and names
    the problem of the others; the result is the same either way.
    """
    try:
        ts, ticker = data["ts"], data["ticker"]
        if not (
            type(ts) is str and type(ticker) is str and data.keys() <= _QUOTE_KEYS
        ) or not TICKER.match(ticker):
            return None
        moment = datetime.fromisoformat(ts)
        if moment.tzinfo is not None:
            return None
        numbers = [data[k] for k in ("bid", "ask", "bid_size", "ask_size")]
        if any(type(v) not in (float, int) for v in numbers):
            return None
        source = data.get("source")
        if source is not None and type(source) is not str:
            return None
    except (KeyError, ValueError):
        return None
    bid, ask, bid_size, ask_size = (float(v) for v in numbers)
    if not math.isfinite(bid + ask + bid_size + ask_size):
        return None  # NaN and infinities take the checked path (NaN: the engine's "invalid")
    return {"kind": "quote", "ticker": ticker, "ts": moment, "bid": bid, "ask": ask,
            "bid_size": bid_size, "ask_size": ask_size, "source": source}  # fmt: skip


_HINT = "publish with `sightline broker publish FILE` (docs/realtime.md 'Event schemas')"


def check_event(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with each field converted to its type, or a MalformedEvent naming the field."""
    kind = data.get("kind")
    if kind not in REQUIRED:
        raise MalformedEvent(f"unknown event kind {kind!r}", hint=f"use one of {sorted(REQUIRED)}")
    fields = {**REQUIRED[kind], **OPTIONAL.get(kind, {})}
    extra = set(data) - set(fields) - {"kind"}
    if extra:
        raise MalformedEvent(f"{kind}: unknown field(s) {sorted(extra)}", hint=_HINT)
    out: dict[str, Any] = {"kind": kind}
    for name, typ in fields.items():
        value = data.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value) and typ != "float"):
            if name in REQUIRED[kind]:
                raise MalformedEvent(f"{kind}: field '{name}' is missing", hint=_HINT)
            out[name] = None
            continue
        out[name] = _convert(kind, name, typ, value)
    if not TICKER.match(out["ticker"]):
        raise MalformedEvent(f"{kind}: '{out['ticker']}' is not a ticker", hint=_HINT)
    return out


def _convert(kind: str, name: str, typ: str, value: Any) -> Any:
    try:
        if typ == "str":
            if not isinstance(value, str):
                raise TypeError
            return value
        if typ == "float":
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise TypeError
            number = float(value)
            if not math.isfinite(number) and not math.isnan(number):
                raise ValueError
            return number
        if typ == "datetime":
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            # One clock for the engine: aware times become naive UTC.
            return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        moment_or_day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return moment_or_day.date() if isinstance(moment_or_day, datetime) else moment_or_day
    except (TypeError, ValueError):
        raise MalformedEvent(
            f"{kind}: field '{name}' = {value!r} is not a {typ}", hint=_HINT
        ) from None
