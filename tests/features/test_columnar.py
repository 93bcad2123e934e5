"""The columnar quote path applies the same policy and produces the same values as process()."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.columnar import process_quote_arrays
from features.events import Quote, synthetic_quotes
from features.streaming import StreamingEngine

NAMES = ["quoted_spread_bps", "quoted_depth"]


def messy(seed: int, n: int) -> list[Quote]:
    """Synthetic quotes with duplicates, conflicts, late, invalid and unknown-ticker quotes."""
    rng = random.Random(seed)
    quotes = list(synthetic_quotes(6, n, seed=seed))
    out: list[Quote] = []
    for q in quotes:
        out.append(q)
        roll = rng.random()
        if roll < 0.05:
            out.append(q)  # duplicate
        elif roll < 0.08:
            out.append(Quote(q.ticker, q.ts, q.bid, q.ask, q.bid_size + 100, q.ask_size))
        elif roll < 0.11:
            out.append(Quote(q.ticker, q.ts - timedelta(seconds=1), 1.0, 1.1, 1.0, 1.0))
        elif roll < 0.13:
            out.append(Quote(q.ticker, q.ts + timedelta(microseconds=1), 2.0, 1.0, 1.0, 1.0))
        elif roll < 0.15:
            out.append(Quote("NOPE", q.ts, 1.0, 1.1, 1.0, 1.0))
    return out


def arrays(quotes: list[Quote]) -> tuple:
    return (
        [q.ticker for q in quotes],
        np.array([q.ts for q in quotes], dtype="datetime64[us]"),
        np.array([q.bid for q in quotes]),
        np.array([q.ask for q in quotes]),
        np.array([q.bid_size for q in quotes]),
        np.array([q.ask_size for q in quotes]),
    )


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000), n=st.integers(1, 400), cuts=st.lists(st.floats(0, 1), max_size=4)
)
def test_columnar_equals_event_by_event(seed: int, n: int, cuts: list[float]) -> None:
    quotes = messy(seed, n)
    universe = [f"SYN{i:04d}" for i in range(6)]
    scalar = StreamingEngine(NAMES, universe=universe)
    expected = [v for q in quotes for v in scalar.process([q], emit=True)]  # one at a time
    fast = StreamingEngine(NAMES, universe=universe)
    bounds = [0, *sorted(int(c * len(quotes)) for c in cuts), len(quotes)]
    got = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        if hi > lo:
            got += process_quote_arrays(fast, *arrays(quotes[lo:hi]), emit=True)
    assert dict(fast.stats) == dict(scalar.stats)
    # Same keys; values equal up to summation order (a batch of many quotes per ticker is
    # summed as a block, one quote at a time as running sums): far inside the 1e-9 parity.
    key = lambda v: (v.entity, v.feature, v.as_of)  # noqa: E731
    want = sorted((key(v), v.value) for v in expected)
    have = sorted((key(v), v.value) for v in got)
    assert [k for k, _ in have] == [k for k, _ in want]
    assert [v for _, v in have] == pytest.approx([v for _, v in want], rel=1e-12, abs=1e-12)
    for ticker in universe:
        mine, theirs = fast.latest(ticker), scalar.latest(ticker)
        assert [(v.feature, v.as_of) for v in mine] == [(v.feature, v.as_of) for v in theirs]
        assert [v.value for v in mine] == pytest.approx([v.value for v in theirs], rel=1e-12)
    assert [r for r, _ in fast.rejected] == [r for r, _ in scalar.rejected]
