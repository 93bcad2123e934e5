"""Fixtures of the answer-trail tests: a real SQLite trail, realistic answer records, users."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.trail import AnswerRecord, Citation, FeatureUse, SqlQuery, ToolCall
from app.trail.sqlite import SqliteTrailStore


def make_answer(user: str = "ana", n: int = 0, **overrides: Any) -> AnswerRecord:
    """A complete answer record, as the agent would build it (every field filled)."""
    fields: dict[str, Any] = dict(
        user=user,
        role="analyst",
        status="answered",
        question=f"What was the 20-day volatility of AAPL on 2022-03-01? (#{n})",
        answer=f"AAPL's 20-day realized volatility was 0.{300 + n}1 [1].",
        citations=[
            Citation(
                doc_id="doc-aapl-10k-2022",
                doc_name="APPLE_2022_10K.pdf",
                title="Apple 10-K 2022",
                page_start=23,
                page_end=24,
                chunk_id=f"chunk-{n}",
                content_sha256="ab" * 32,
                snippet="volatility of the market price of our stock",
            )
        ],
        tool_calls=[
            ToolCall(
                tool="risk_metrics",
                args={"ticker": "AAPL", "horizon_days": 1, "n": n},
                result={"volatility": 0.3001 + n, "model": "risk@1"},
                started="2026-11-28T10:00:00Z",
                ms=12.5,
            )
        ],
        sql=[SqlQuery(query="SELECT close FROM prices WHERE ticker = 'AAPL'", rows=20)],
        feature_values=[
            FeatureUse(
                entity="AAPL",
                feature="realized_vol_20d",
                version="f1a2",
                as_of="2022-03-01",
                value=0.3001 + n,
            )
        ],
        versions={
            "llm": "offline",
            "prompt": "answer@3f2a",
            "embedding": "all-MiniLM-L6-v2",
            "risk_model": "risk@1",
            "pd_model": "pd@1",
            "code": "0.1.0",
        },
        tokens={"prompt": 812, "completion": 64},
        latency_ms=420.0,
    )
    fields.update(overrides)
    return AnswerRecord(**fields)


@pytest.fixture
def answer() -> Callable[..., AnswerRecord]:
    """Build answer records: ``answer(user="ana", n=3, status="refused")``."""
    return make_answer


@pytest.fixture
def store(tmp_path: Path) -> SqliteTrailStore:
    """An empty SQLite trail in this test's temporary folder."""
    return SqliteTrailStore(tmp_path / "trail.sqlite")


def add_people(runtime):  # noqa: ANN001, ANN201
    """Add users ana and bob (analysts), carl and cleo (compliance), root (admin)."""
    for name, role in (
        ("ana", "analyst"),
        ("bob", "analyst"),
        ("carl", "compliance"),
        ("cleo", "compliance"),
        ("root", "admin"),
    ):
        runtime.users.add(name, role)
    return runtime


@pytest.fixture
def people(runtime):  # noqa: ANN001, ANN201
    """A runtime with users ana, bob (analysts), carl, cleo (compliance) and root (admin)."""
    return add_people(runtime)
