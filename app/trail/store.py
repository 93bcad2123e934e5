"""The trail store interface, what it returns, and the registry that picks a backend by setting.

``SIGHTLINE_TRAIL=sqlite`` (default) keeps the trail in ``$SIGHTLINE_HOME/trail.sqlite``; a
``postgresql://`` URL keeps it in that PostgreSQL database (a shared deployment). Any other value
is refused rather than silently falling back to a local file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from app.trail.chain import Head, VerifyResult
from app.trail.record import AnswerRecord, day_end_iso, day_start_iso
from ingestion.errors import ConfigError


@dataclass(frozen=True)
class StoredRecord:
    """A record as stored: its position, hashes, when the store took it, and the record itself."""

    seq: int
    id: str
    hash: str
    prev_hash: str
    appended_at: str
    record: dict[str, Any]

    @classmethod
    def from_row(cls, seq: int, prev_hash: str, hash_: str, body: str | bytes) -> StoredRecord:
        """Rebuild from a stored row (``body`` is the canonical JSON that was hashed)."""
        data = json.loads(body)
        appended_at = data.pop("appended_at")
        data.pop("seq", None)
        return cls(
            seq=seq,
            id=data["id"],
            hash=hash_,
            prev_hash=prev_hash,
            appended_at=appended_at,
            record=data,
        )

    def body(self) -> dict[str, Any]:
        """The hashed JSON: the record plus ``seq`` and ``appended_at``."""
        return {**self.record, "seq": self.seq, "appended_at": self.appended_at}

    def model(self) -> AnswerRecord:
        """The record as a typed ``AnswerRecord``."""
        return AnswerRecord.model_validate(self.record)

    def to_json(self) -> dict[str, Any]:
        """The export/``--json`` shape: envelope fields plus ``record``."""
        return {
            "seq": self.seq,
            "id": self.id,
            "hash": self.hash,
            "prev_hash": self.prev_hash,
            "appended_at": self.appended_at,
            "record": self.record,
        }


@dataclass(frozen=True)
class TrailQuery:
    """Filters for ``TrailStore.read`` (all optional; combined with AND).

    ``start``/``end`` bound the record's ``time`` (dates are whole UTC days, ``end`` inclusive);
    ``model`` keeps records whose ``versions`` values contain the text (e.g. ``pd@2``, ``qwen``).
    """

    user: str | None = None
    kind: str | None = None
    status: str | None = None
    start: date | datetime | None = None
    end: date | datetime | None = None
    refers_to: str | None = None
    model: str | None = None
    limit: int | None = None
    newest_first: bool = False


@runtime_checkable
class TrailStore(Protocol):
    """An append-only, hash-chained store of answer records. There is no update or delete."""

    def append(self, record: AnswerRecord | Mapping[str, Any]) -> StoredRecord:
        """Validate, chain and durably store one record; return it with its seq and hash.

        Raises:
            RecordError: the record does not fit the schema (nothing stored).
            TrailWriteError: it could not be made durable (nothing stored; withhold the answer).
        """
        ...

    def read(self, query: TrailQuery | None = None) -> list[StoredRecord]:
        """Records matching ``query``, in chain order (or newest first)."""
        ...

    def get(self, record_id: str) -> StoredRecord:
        """The record with this id (or a unique id prefix of 8+ characters); NotFoundError."""
        ...

    def scan(self, after_seq: int = 0) -> Iterator[StoredRecord]:
        """Every record after ``after_seq`` in chain order, from one consistent snapshot."""
        ...

    def head(self) -> Head:
        """The current chain head (count, last seq, its hash)."""
        ...

    def verify(self, anchor: Mapping[str, Any] | None = None, *, workers: int = 1) -> VerifyResult:
        """Check the whole chain (and, given one, an anchor) from one consistent snapshot.

        ``workers`` > 1 lets a store split a large chain across processes (a hint).
        """
        ...

    def purge(self, before: date, *, user: str, role: str, retention_years: int) -> dict[str, Any]:
        """Drop the oldest records appended before ``before``, if all are past retention."""
        ...


def open_trail(home: Path, setting: str = "sqlite") -> TrailStore:
    """The trail store chosen by the ``SIGHTLINE_TRAIL`` setting.

    Raises:
        ConfigError: an unknown setting.
    """
    if setting == "sqlite":
        from app.trail.sqlite import SqliteTrailStore

        return SqliteTrailStore(Path(home) / "trail.sqlite")
    if setting.startswith(("postgresql://", "postgres://")):
        from app.trail.postgres import PostgresTrailStore

        return PostgresTrailStore(setting)
    raise ConfigError(
        f"SIGHTLINE_TRAIL: unknown answer-trail store {setting!r}",
        hint="use 'sqlite' (default) or a postgresql:// URL",
    )


def ids_of(records: Sequence[StoredRecord]) -> list[str]:
    """The ids of ``records``, in order."""
    return [r.id for r in records]


def read_sql(select: str, query: TrailQuery, mark: str) -> tuple[str, list[Any]]:
    """The SELECT for ``query``'s filters, order and limit; ``mark`` is the placeholder.

    ``select`` is ``SELECT <columns> FROM <table>``. The ``model`` filter is not SQL (it matches
    inside the JSON body): apply ``keep_model`` to what the statement returns.
    """
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("user_name", query.user),
        ("kind", query.kind),
        ("status", query.status),
        ("refers_to", query.refers_to),
    ):
        if value is not None:
            where.append(f"{column} = {mark}")
            params.append(value)
    if query.start is not None:
        where.append(f"time >= {mark}")
        params.append(day_start_iso(query.start))
    if query.end is not None:
        where.append(f"time < {mark}")
        params.append(day_end_iso(query.end))
    sql = select
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq" + (" DESC" if query.newest_first else "")
    if query.limit is not None and query.model is None:
        sql += f" LIMIT {int(query.limit)}"
    return sql, params


def keep_model(records: list[StoredRecord], query: TrailQuery) -> list[StoredRecord]:
    """``records`` whose model versions contain ``query.model`` (all of them when it is None)."""
    if query.model is None:
        return records
    needle = query.model.lower()
    kept = [
        r
        for r in records
        if any(
            needle in str(v).lower()
            for v in (r.record.get("versions") or {}).values()
            if v is not None
        )
    ]
    return kept if query.limit is None else kept[: query.limit]
