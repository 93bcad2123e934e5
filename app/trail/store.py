"""The trail store interface: what a store does (``TrailStore``), what it returns and takes.

Nothing here knows a database. ``app.trail.chained.ChainedStore`` implements the interface once
for every database; ``app.trail.backends.open_trail`` picks one by the ``SIGHTLINE_TRAIL`` setting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from app.trail.chain import Head, VerifyResult
from app.trail.record import AnswerRecord


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
class TrailWriter(Protocol):
    """What a producer of records needs (the agent, the inference service): one method."""

    def append(self, record: AnswerRecord | Mapping[str, Any]) -> StoredRecord:
        """Validate, chain and durably store one record; return it with its seq and hash.

        Raises:
            RecordError: the record does not fit the schema (nothing stored).
            TrailWriteError: it could not be made durable (nothing stored; withhold the answer).
        """
        ...


@runtime_checkable
class TrailStore(TrailWriter, Protocol):
    """An append-only, hash-chained store of answer records. There is no update or delete."""

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

    def close(self) -> None:
        """Close this thread's connection (the next call opens a new one)."""
        ...
