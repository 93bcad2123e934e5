"""The answer trail: every answer durably recorded, hash-chained, verifiable, replayable.

Public API (docs/trail.md)::

    from app.trail import AnswerRecord, ToolCall, Citation, open_trail
    store = open_trail(home)               # or Runtime.trail
    stored = store.append(AnswerRecord(user=..., role=..., status="answered", ...))
    store.verify().ok                      # True when every link holds

Appending raises ``TrailWriteError`` (or another ``SightlineError``) when the record is not
durable; the caller must then withhold the answer.
"""

from app.trail.backends import TRAIL_STORES, open_trail
from app.trail.chain import GENESIS_HASH, Break, Head, VerifyResult, chain_hash
from app.trail.errors import AppendOnlyError, RecordError, TrailError, TrailWriteError
from app.trail.record import (
    AnswerRecord,
    Citation,
    FeatureUse,
    SqlQuery,
    Tokens,
    ToolCall,
    Versions,
    canonical_json,
)
from app.trail.store import StoredRecord, TrailQuery, TrailStore, TrailWriter

__all__ = [
    "GENESIS_HASH",
    "TRAIL_STORES",
    "AnswerRecord",
    "AppendOnlyError",
    "Break",
    "Citation",
    "FeatureUse",
    "Head",
    "RecordError",
    "SqlQuery",
    "StoredRecord",
    "Tokens",
    "ToolCall",
    "TrailError",
    "TrailQuery",
    "TrailStore",
    "TrailWriteError",
    "TrailWriter",
    "VerifyResult",
    "Versions",
    "canonical_json",
    "chain_hash",
    "open_trail",
]
