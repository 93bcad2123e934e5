"""The vectorized event policy equals the event-by-event rules, whatever the micro-batch sizes.

The rules are written out here once more, event by event in plain Python, as the reference the
columnar paths (``process_bar_arrays``, ``process_quote_arrays``) must reproduce: the same
counts, the same rejection reasons and records in the same order, the same buffered bars. The
feature values must not depend on how the stream is cut into micro-batches (whole-block windows,
O(1) steps and direct window sums all give the same numbers, to 1e-12).
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.columnar import (
    bars_to_arrays,
    process_bar_arrays,
    process_quote_arrays,
    quotes_to_arrays,
)
from features.definitions import MARKET_TICKER
from features.events import Bar, Quote, event_to_dict
from features.streaming import GAP_DAYS, StreamingEngine

UNIVERSE = [MARKET_TICKER, "AAA", "BBB"]
BAR_NAMES = ["log_return_1d", "realized_vol_20d", "max_drawdown_252d", "beta_252d", "adv_usd_20d"]


def same_records(a: list, b: list) -> bool:
    """Equal rejection records (NaN prices compare equal: JSON writes them alike)."""
    return json.dumps(a) == json.dumps(b)


class BarRules:
    """The bar policy, one event at a time (docs/features.md, "Streaming engine")."""

    def __init__(self, universe: list[str]) -> None:
        self.universe = set(universe)
        self.open: date | None = None
        self.pending: dict[str, Bar] = {}
        self.last: dict[str, Bar] = {}
        self.stats: Counter[str] = Counter()
        self.rejected: list[tuple[str, dict[str, object]]] = []

    def reject(self, reason: str, b: Bar) -> None:
        self.stats[reason] += 1
        self.rejected.append((reason, event_to_dict(b)))

    def on(self, b: Bar) -> None:
        if b.ticker not in self.universe:
            return self.reject("unknown_entity", b)
        if not (math.isfinite(b.adj_close) and b.adj_close > 0):
            return self.reject("invalid", b)
        last = self.last.get(b.ticker)
        if self.open is not None and b.date < self.open:
            return self.reject("duplicate" if b == last else "late", b)
        if self.open is not None and b.date == self.open:
            seen = self.pending.get(b.ticker)
            if seen is None and last is not None and last.date == b.date:
                seen = last
            if seen is not None:
                return self.reject("duplicate" if b == seen else "conflict", b)
        else:
            self.flush()
            self.open = b.date
        previous = self.last.get(b.ticker)
        if previous is not None and (b.date - previous.date).days > GAP_DAYS:
            self.stats["gaps"] += 1
        self.pending[b.ticker] = b
        self.stats["accepted"] += 1

    def flush(self) -> None:
        self.last.update(self.pending)
        self.pending = {}


def messy_bars(seed: int, n_days: int) -> list[Bar | None]:
    """Bars of three tickers with holes, then duplicates, conflicts, late, invalid and unknown
    bars mixed in; ``None`` marks a flush()."""
    rng = random.Random(seed)
    start = date(2020, 1, 1)
    clean: list[Bar] = []
    prices = {t: rng.uniform(10, 200) for t in UNIVERSE}
    for d in range(n_days):
        day = start + timedelta(days=d if rng.random() > 0.1 else d + 6)  # some gaps
        for t in rng.sample(UNIVERSE, len(UNIVERSE)):
            if rng.random() < 0.15:
                continue
            prices[t] *= math.exp(rng.gauss(0, 0.02))
            volume = float(rng.randint(1, 10**6)) if rng.random() < 0.9 else None
            clean.append(Bar(t, day, round(prices[t], 4), round(prices[t], 4), volume))
    clean.sort(key=lambda b: b.date)
    out: list[Bar | None] = list(clean)
    for _ in range(rng.randint(0, 30) if clean else 0):  # no bar at all: nothing to spoil
        pos = rng.randrange(len(out) + 1)
        victim = clean[rng.randrange(len(clean))]
        kind = rng.choice(["dup", "conflict", "unknown", "invalid", "late", "flush"])
        bad: Bar | None = {
            "dup": victim,
            "conflict": Bar(victim.ticker, victim.date, victim.adj_close * 1.5),
            "unknown": Bar("ZZZ", victim.date, 10.0),
            "invalid": Bar(victim.ticker, victim.date, rng.choice([-1.0, 0.0, math.nan])),
            "late": Bar(victim.ticker, victim.date - timedelta(days=40), 5.0),
            "flush": None,
        }[kind]
        out.insert(pos, bad)
    return out


def feed_bars(engine: StreamingEngine, stream: list[Bar | None], cuts: set[int]) -> None:
    """Columnar micro-batches split at ``cuts`` and at every flush marker."""
    batch: list[Bar] = []
    for i, event in enumerate(stream):
        if i in cuts and batch:
            process_bar_arrays(engine, *bars_to_arrays(batch))
            batch = []
        if event is None:
            if batch:
                process_bar_arrays(engine, *bars_to_arrays(batch))
                batch = []
            engine.flush()
        else:
            batch.append(event)
    if batch:
        process_bar_arrays(engine, *bars_to_arrays(batch))


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n_days=st.integers(1, 70),
    cuts=st.lists(st.integers(0, 400), max_size=12),
)
def test_bar_policy_matches_the_rules_for_any_batching(
    seed: int, n_days: int, cuts: list[int]
) -> None:
    stream = messy_bars(seed, n_days)
    rules = BarRules(UNIVERSE)
    for event in stream:
        if event is None:
            rules.flush()
        else:
            rules.on(event)
    columnar = StreamingEngine(BAR_NAMES, universe=UNIVERSE)
    feed_bars(columnar, stream, set(cuts))
    assert dict(columnar.stats) == dict(rules.stats)
    assert same_records(list(columnar.rejected), rules.rejected[-100:])
    assert columnar.pending_bars == rules.pending
    # One bar per call (O(1) steps) gives the values of any other batching.
    single = StreamingEngine(BAR_NAMES, universe=UNIVERSE)
    for event in stream:
        if event is None:
            single.flush()
        else:
            single.process([event])
    for engine in (columnar, single):
        engine.flush()
    for ticker in UNIVERSE:
        mine, ref = columnar.latest(ticker), single.latest(ticker)
        assert [(v.feature, v.as_of) for v in mine] == [(v.feature, v.as_of) for v in ref]
        assert [v.value for v in mine] == pytest.approx([v.value for v in ref], rel=1e-12)


def test_block_sizes_give_the_same_values() -> None:
    """A year of bars in one call, 7 dates per call, and date by date: the same numbers."""
    rng = np.random.default_rng(5)
    tickers = [MARKET_TICKER, *(f"T{i:02d}" for i in range(30))]
    days = 330
    prices = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, (days, len(tickers))), axis=0))
    bars = [
        Bar(t, date(2010, 1, 4) + timedelta(days=d), float(prices[d, i]), 1.0, 1e5 + d)
        for d in range(days)
        for i, t in enumerate(tickers)
        if not (d % 17 == 3 and i % 5 == 1)  # holes
    ]
    results = []
    for per_call in (len(bars), 7 * len(tickers), len(tickers)):
        engine = StreamingEngine(BAR_NAMES + ["ewma_vol", "realized_vol_60d"])
        arrays = bars_to_arrays(bars)
        for i in range(0, len(bars), per_call):
            process_bar_arrays(engine, *(a[i : i + per_call] for a in arrays))
        engine.flush()
        results.append({t: engine.latest(t) for t in tickers})
    for other in results[1:]:
        for t in tickers:
            assert [v.feature for v in other[t]] == [v.feature for v in results[0][t]]
            want = [v.value for v in results[0][t]]
            assert [v.value for v in other[t]] == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert {v.feature for v in results[0]["T01"]} >= {"beta_252d", "max_drawdown_252d"}


class QuoteRules:
    """The quote policy, one event at a time."""

    def __init__(self, universe: list[str]) -> None:
        self.universe = set(universe)
        self.last: dict[str, Quote] = {}
        self.stats: Counter[str] = Counter()
        self.rejected: list[tuple[str, dict[str, object]]] = []

    def on(self, q: Quote) -> None:
        reason = None
        numbers = (q.bid, q.ask, q.bid_size, q.ask_size)
        last = self.last.get(q.ticker)
        if q.ticker not in self.universe:
            reason = "unknown_entity"
        elif not all(math.isfinite(x) for x in numbers) or q.bid <= 0 or q.ask < q.bid:
            reason = "invalid"
        elif q.bid_size < 0 or q.ask_size < 0:
            reason = "invalid"
        elif last is not None and q.ts <= last.ts:
            reason = "late" if q.ts < last.ts else ("duplicate" if q == last else "conflict")
        if reason:
            self.stats[reason] += 1
            self.rejected.append((reason, event_to_dict(q)))
            return
        self.last[q.ticker] = q
        self.stats["accepted"] += 1


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 300), size=st.integers(1, 120))
def test_quote_policy_matches_the_rules(seed: int, n: int, size: int) -> None:
    rng = random.Random(seed)
    t0 = datetime(2024, 1, 2, 9, 30)
    quotes: list[Quote] = []
    for i in range(n):
        ticker = rng.choice(["AAA", "BBB", "CCC", "ZZZ"])
        ts = t0 + timedelta(milliseconds=i * 10 + rng.randint(0, 30))  # some out of order
        bid = rng.choice([10.0, 10.01, 9.99, -1.0, math.nan])
        q = Quote(ticker, ts, bid, bid + rng.choice([0.01, 0.02, -0.5]), 100.0, 200.0)
        quotes.append(q)
        if rng.random() < 0.1:
            quotes.append(q)  # exact duplicate
    universe = ["AAA", "BBB", "CCC"]
    rules = QuoteRules(universe)
    for q in quotes:
        rules.on(q)
    engine = StreamingEngine(["quoted_spread_bps", "quoted_depth"], universe=universe)
    for i in range(0, len(quotes), size):
        process_quote_arrays(engine, *quotes_to_arrays(quotes[i : i + size]))
    assert dict(engine.stats) == dict(rules.stats)
    assert same_records(list(engine.rejected), rules.rejected[-100:])


def test_quote_timestamps_centuries_apart_take_the_per_ticker_path() -> None:
    """Timestamps too far apart for the packed (ticker, time) key: same labels, same values."""
    tickers = [f"T{i:02d}" for i in range(20)]
    quotes = []
    for i, t in enumerate(tickers):
        for ts in (datetime(1, 1, 2), datetime(9999, 12, 30), datetime(1, 1, 3)):  # last: late
            quotes.append(Quote(t, ts, 10.0 + i, 10.5 + i, 100.0, 100.0))
    quotes.append(quotes[1])  # a duplicate of the year-9999 quote
    rules = QuoteRules(tickers)
    for q in quotes:
        rules.on(q)
    engine = StreamingEngine(["quoted_depth"], universe=tickers)
    process_quote_arrays(engine, *quotes_to_arrays(quotes))
    assert dict(engine.stats) == dict(rules.stats) == {"accepted": 40, "late": 20, "duplicate": 1}
    assert same_records(list(engine.rejected), rules.rejected[-100:])
    (depth,) = engine.latest("T05")
    assert (depth.as_of, depth.value) == (datetime(9999, 12, 30), 200.0)
