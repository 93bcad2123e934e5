"""The answer record: the typed shape of one trail entry, and its canonical JSON bytes.

This schema is the contract compliance relies on (docs/trail.md "The record"). The agent builds an
``AnswerRecord`` per answer and appends it before the answer is shown; reviews, corrections and
events are records of their own that point at the original through ``refers_to``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

from app.trail.errors import RecordError

SCHEMA_VERSION = 1
KINDS = ("answer", "review", "correction", "event", "prediction", "digest")
ANSWER_STATUSES = ("answered", "refused", "degraded", "flagged", "withheld")
REVIEW_STATUSES = ("approved", "flagged", "escalated")
EVENT_STATUS = "recorded"
# A prediction is served with these (refused and withheld ones carry no model output to replay).
SERVED_STATUSES = ("answered", "degraded", "flagged")
STATUSES_BY_KIND: dict[str, tuple[str, ...]] = {
    "answer": ANSWER_STATUSES,
    "correction": ANSWER_STATUSES,
    "digest": ANSWER_STATUSES,
    "prediction": ANSWER_STATUSES,
    "review": REVIEW_STATUSES,
    "event": (EVENT_STATUS,),
}
ALL_STATUSES = tuple(sorted({s for statuses in STATUSES_BY_KIND.values() for s in statuses}))
# Kinds that carry an answer and its evidence: replayed, reviewed, exported with an evidence pack.
ANSWER_LIKE_KINDS = ("answer", "correction", "digest", "prediction")


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """``moment`` as ISO 8601 UTC with microseconds and a ``Z`` (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def day_start_iso(day: date) -> str:
    """The first instant of UTC day ``day`` (a datetime is used as it is), as stored."""
    if isinstance(day, datetime):
        return iso_utc(day)
    return iso_utc(datetime.combine(day, dt_time.min, tzinfo=UTC))


def day_end_iso(day: date) -> str:
    """The first instant after UTC day ``day`` (a datetime: just after it), as stored."""
    if isinstance(day, datetime):
        return iso_utc(day + timedelta(microseconds=1))
    return iso_utc(datetime.combine(day + timedelta(days=1), dt_time.min, tzinfo=UTC))


def new_record_id() -> str:
    """A fresh record id (32 hex digits, random: ids carry no meaning and never collide)."""
    return uuid.uuid4().hex


def to_jsonable(value: Any, path: str = "record") -> Any:
    """``value`` as plain JSON types, deterministically, or a RecordError naming where it failed.

    Tools return numpy scalars, dates, tuples, dataclasses and NaN; the trail stores what they
    meant: dates as ISO strings, tuples as lists, non-finite floats as the strings "NaN",
    "Infinity", "-Infinity" (JSON has no such numbers, and dropping them would hide a fact).

    This is the one conversion pydantic does not do for us: the record's typed fields go through
    ``model_dump(mode="json")``, but untyped tool outputs must keep the meaning already hashed
    into every stored record and compared by replay. Pydantic's own JSON for them differs
    (a ``Decimal`` becomes a string, a datetime keeps its offset and drops zero microseconds,
    NaN stays a float, a set becomes a list in arbitrary order, numpy integers are refused).
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return to_jsonable(float(value), path)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                key = str(to_jsonable(key, path))
            out[key] = to_jsonable(item, f"{path}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [to_jsonable(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="json"), path)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value), path)
    if hasattr(value, "item") and callable(value.item):  # numpy / pandas scalars
        return to_jsonable(value.item(), path)
    if hasattr(value, "isoformat") and callable(value.isoformat):  # pandas Timestamp and kin
        return str(value.isoformat())
    raise RecordError(
        f"{path}: a {type(value).__name__} cannot be stored in the answer trail",
        hint="pass plain JSON values (str, int, float, bool, None, lists, dicts, dates)",
    )


def canonical_json(value: Any) -> bytes:
    """The canonical bytes of a JSON value: sorted keys, no spaces, UTF-8, no NaN.

    The same value always gives the same bytes, so a hash over them is reproducible by anyone with
    a JSON library (``json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``).
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _as_utc(value: datetime) -> datetime:
    # A naive time is taken as UTC; an aware one is converted, so every record reads the same.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcTime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    # The hashed text of every time in a record: UTC, microseconds, "Z" (pydantic's own ISO text
    # drops zero microseconds and would change the bytes of records already in trails).
    PlainSerializer(iso_utc, return_type=str, when_used="json"),
]


def _plain(path: str) -> BeforeValidator:
    """A validator that makes an untyped value plain JSON (``to_jsonable``), naming ``path``."""
    return BeforeValidator(lambda value: to_jsonable(value, path))


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Part):
    """One cited passage: which document, which pages, which chunk, and its content hash."""

    doc_id: str
    doc_name: str = ""
    title: str = ""
    page_start: int
    page_end: int
    chunk_id: str
    content_sha256: str
    snippet: str = ""


class ToolCall(_Part):
    """One tool call: name, the arguments it was given, what it returned, when and how long."""

    tool: str
    args: Annotated[dict[str, Any], _plain("tool_calls.args")] = Field(default_factory=dict)
    result: Annotated[Any, _plain("tool_calls.result")] = None
    error: str | None = None
    started: UtcTime
    ms: float = Field(ge=0)


class SqlQuery(_Part):
    """The final SQL text a tool ran and how many rows it returned."""

    query: str
    rows: int = Field(ge=0)


class FeatureUse(_Part):
    """A feature value the answer used: entity, feature, definition version, as-of date, value.

    ``sequence`` is the event sequence of the live feature snapshot the value was read from (a
    prediction served from streaming features); batch values have none, and a record without one
    is stored without the key, so records written before it existed keep their exact bytes.
    """

    entity: str
    feature: str
    version: str
    as_of: Annotated[str, _plain("feature_values.as_of")]
    value: Annotated[Any, _plain("feature_values.value")] = None
    sequence: int | None = Field(default=None, ge=0, exclude_if=lambda value: value is None)


class Versions(BaseModel):
    """Every version involved in producing the answer (other named versions are kept too)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    llm: str | None = None
    prompt: str | None = None
    embedding: str | None = None
    risk_model: str | None = None
    pd_model: str | None = None
    code: str | None = None

    def models(self) -> dict[str, str]:
        """The model versions named (``risk_model``, ``pd_model`` and any other ``*_model``)."""
        named = {"risk_model": self.risk_model, "pd_model": self.pd_model}
        named |= {k: v for k, v in (self.model_extra or {}).items() if k.endswith("_model")}
        return {k: str(v) for k, v in named.items() if v}


class Tokens(_Part):
    """Token counts of the LLM calls behind one answer (0 for the offline planner)."""

    prompt: int = Field(default=0, ge=0)
    completion: int = Field(default=0, ge=0)


class AnswerRecord(BaseModel):
    """One entry of the answer trail, immutable once written.

    ``kind`` says what it is (docs/trail.md "Record kinds"): an ``answer`` with its evidence, a
    ``digest`` (a research digest, recorded like an answer), a ``prediction`` served by the
    inference service (request, feature values with versions and event sequence, model version,
    result as its tool call, latency), a ``review`` or ``correction`` of an earlier record
    (``refers_to`` its id, ``note`` says why), or an ``event`` (e.g. a purge). Which statuses
    each kind may have is ``STATUSES_BY_KIND``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    id: str = Field(default_factory=new_record_id, pattern=r"^[A-Za-z0-9_\-]{8,64}$")
    kind: Literal["answer", "review", "correction", "event", "prediction", "digest"] = "answer"
    time: UtcTime = Field(default_factory=utc_now)
    user: str
    role: str
    status: str
    question: str = ""
    answer: str = ""
    refers_to: str | None = None
    note: str = ""
    citations: list[Citation] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    sql: list[SqlQuery] = Field(default_factory=list)
    feature_values: list[FeatureUse] = Field(default_factory=list)
    versions: Versions = Field(default_factory=lambda: Versions())
    tokens: Tokens = Field(default_factory=lambda: Tokens())
    latency_ms: float = Field(default=0.0, ge=0)
    warnings: list[str] = Field(default_factory=list)
    details: Annotated[dict[str, Any], _plain("details")] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kind_rules(self) -> AnswerRecord:
        allowed = STATUSES_BY_KIND[self.kind]
        if self.status not in allowed:
            raise ValueError(f"status of a {self.kind} must be one of {', '.join(allowed)}")
        if self.kind in ("review", "correction") and not self.refers_to:
            raise ValueError(f"a {self.kind} must name the record it refers_to")
        if self.kind == "prediction" and self.status in SERVED_STATUSES:
            # What `trail replay` re-runs and what compliance asks first: which model said it.
            if not self.tool_calls:
                raise ValueError("a served prediction must log its model call in tool_calls")
            if not self.versions.models():
                raise ValueError(
                    "a served prediction must name its model version in versions "
                    "(pd_model, risk_model or another *_model)"
                )
        return self

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON values (what is hashed, stored and exported)."""
        return self.model_dump(mode="json")


def parse_record(record: AnswerRecord | Mapping[str, Any]) -> AnswerRecord:
    """An AnswerRecord from a record or a dict, or a RecordError that names the bad fields."""
    if isinstance(record, AnswerRecord):
        return record
    try:
        return AnswerRecord.model_validate(dict(record))
    except RecordError:
        raise
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors()
        )
        raise RecordError(
            f"not a valid answer record: {problems}",
            hint="see docs/trail.md 'The record' for the fields and allowed values",
        ) from exc


def purge_event(
    *,
    user: str,
    role: str,
    before: date,
    through_seq: int,
    through_hash: str,
    count: int,
    retention_years: int,
) -> AnswerRecord:
    """The event record a purge appends (both stores write the same one, so hashes agree)."""
    return AnswerRecord(
        kind="event",
        user=user,
        role=role,
        status="recorded",
        note=f"purged {count} record(s) appended before {before.isoformat()}",
        details={
            "action": "purge",
            "before": before.isoformat(),
            "through_seq": through_seq,
            "through_hash": through_hash,
            "count": count,
            "retention_years": retention_years,
        },
    )
