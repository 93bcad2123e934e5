"""Fixed records with their known canonical bytes and chain hashes, pinned across refactors.

Records already in a trail must keep verifying, and anyone re-deriving a hash from an export must
get the same answer, so the canonical JSON of a record and ``sha256(prev_hash + body)`` may never
change. These constants were computed once from the hand-written conversion; the record below
exercises every conversion the schema does (numpy scalars, NaN and infinities, dates, Decimals,
tuples, aware and naive times, non-ASCII text, extra version names).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np

from app.trail import AnswerRecord, Citation, FeatureUse, SqlQuery, ToolCall, canonical_json
from app.trail.chain import GENESIS_HASH, chain_hash
from app.trail.record import parse_record

KNOWN_BODY_SHA256 = "a918689518359ed57bf13ea1197de47a14b08bf897dd7ada179ff51af0c29d55"
KNOWN_ANSWER_HASH = "4df0b4d5c320408607300b9af505f97e238e6ce00f1246d68c5ca3caca4ba47e"
KNOWN_REVIEW_HASH = "7cf43cfe340281704ceb22a7d81aa97bc8ce726000869011814a35ec582fd04e"


def known_record() -> AnswerRecord:
    """An answer with every field filled, including values that need converting."""
    return AnswerRecord(
        id="known-answer-0001",
        time=datetime(2026, 3, 2, 16, 30, 5, 123456, tzinfo=timezone(timedelta(hours=1))),
        user="ana",
        role="analyst",
        status="answered",
        question="Quelle est la volatilité de AAPL ? — 20 jours",
        answer="AAPL's 20-day volatility was 0.31 [1]; VaR 99% 1d: 4.2%.",
        citations=[
            Citation(
                doc_id="doc-aapl-10k-2022",
                doc_name="APPLE_2022_10K.pdf",
                title="Apple 10-K 2022",
                page_start=23,
                page_end=24,
                chunk_id="chunk-7",
                content_sha256="ab" * 32,
                snippet="volatility of the market price of our stock <b>",
            )
        ],
        tool_calls=[
            ToolCall(
                tool="risk_metrics",
                args={"ticker": "AAPL", "horizon_days": np.int64(1), "levels": (0.95, 0.99)},
                result={
                    "volatility": np.float64(0.3101),
                    "as_of": date(2022, 3, 1),
                    "nan": float("nan"),
                    "inf": float("-inf"),
                    "exposure": Decimal("1250000.5"),
                    "model": "risk@1",
                },
                started=datetime(2026, 3, 2, 15, 30, 4),
                ms=12.5,
            ),
            ToolCall(
                tool="sql",
                args={"query": "SELECT 1"},
                result=None,
                error="timed out",
                started="2026-03-02T15:30:04.5Z",
                ms=1000,
            ),
        ],
        sql=[SqlQuery(query="SELECT close FROM prices WHERE ticker = 'AAPL'", rows=20)],
        feature_values=[
            FeatureUse(
                entity="AAPL",
                feature="realized_vol_20d",
                version="f1a2",
                as_of=date(2022, 3, 1),
                value=np.float32(0.5),
            )
        ],
        versions={"llm": "offline", "prompt": "answer@3f2a", "risk_model": "risk@1", "x": "y"},
        tokens={"prompt": 812, "completion": 64},
        latency_ms=420,
        warnings=["input outside the validated range"],
        details={"grounding": {"ok": True, "numbers": [0.31, 4.2]}, "when": date(2022, 3, 1)},
    )


def known_review() -> AnswerRecord:
    """A review of ``known_record`` (the second link of the known chain)."""
    return AnswerRecord(
        id="known-review-0002",
        kind="review",
        time=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
        user="carl",
        role="compliance",
        status="approved",
        refers_to="known-answer-0001",
        note="figures check out",
    )


def fixed_clock() -> Callable[[], datetime]:
    """A store clock that ticks one second per append from 2026-03-04 08:00 UTC."""
    moments: Iterator[datetime] = (
        datetime(2026, 3, 4, 8, 0, tzinfo=UTC) + timedelta(seconds=i) for i in range(1000)
    )
    return lambda: next(moments)


def test_known_record_has_its_known_canonical_bytes() -> None:
    body = canonical_json(known_record().to_json())
    assert hashlib.sha256(body).hexdigest() == KNOWN_BODY_SHA256
    # A record read back from its JSON gives the same bytes again (what verify and replay see).
    again = canonical_json(parse_record(known_record().to_json()).to_json())
    assert again == body


def test_known_chain_hashes_in_sqlite(tmp_path: Path) -> None:
    from app.trail.sqlite import SqliteTrailStore

    store = SqliteTrailStore(tmp_path / "trail.sqlite", clock=fixed_clock())
    first = store.append(known_record())
    second = store.append(known_review())
    assert first.prev_hash == GENESIS_HASH
    assert (first.hash, second.hash) == (KNOWN_ANSWER_HASH, KNOWN_REVIEW_HASH)
    assert second.prev_hash == first.hash
    # Recomputed by hand from what the store returns, as docs/trail.md tells an auditor to.
    assert chain_hash(first.hash, canonical_json(second.body())) == KNOWN_REVIEW_HASH
    assert store.verify().ok
