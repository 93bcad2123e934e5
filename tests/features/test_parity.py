"""Streaming == batch for every feature (1e-9 relative), with bad events mixed in and a restart."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.definitions import MARKET_TICKER, all_features
from features.events import Bar, Event, Filing, MacroObs, Quote
from tests.features.parity import (
    batch_values,
    mismatches,
    run_stream,
    stream_values,
    warehouse_with,
)

TICKERS = ["AAA", "BBB", "CCC"]
ITEMS = [
    "total_assets",
    "total_liabilities",
    "current_assets",
    "current_liabilities",
    "retained_earnings",
    "operating_income",
    "total_equity",
    "revenue",
    "shares_outstanding",  # read by no feature: must not pick the period
]


def _when(e: Event) -> datetime:
    if isinstance(e, Quote):
        return e.ts
    day = e.filing_date if isinstance(e, Filing) else e.date
    return datetime(day.year, day.month, day.day)


def clean_events(
    seed: int, n_days: int, gap_p: float, market_gap_p: float, item_p: float = 0.85
) -> list[Event]:
    """A consistent data set: bars (with holes), quotes, filings and macro, as events."""
    rng = np.random.default_rng(seed)
    start = date(2001, 1, 1)
    days = [start + timedelta(days=i) for i in range(n_days)]
    events: list[Event] = []
    for ticker in [MARKET_TICKER, *TICKERS]:
        price = float(rng.uniform(5, 500))
        has_volume = rng.random() < 0.7
        skip = market_gap_p if ticker == MARKET_TICKER else gap_p
        for day in days:
            price *= math.exp(rng.normal(0, 0.02))
            if rng.random() < skip:
                continue
            volume = float(rng.integers(1_000, 1_000_000)) if has_volume else None
            close = price * float(rng.uniform(0.9, 1.1)) if has_volume else None
            events.append(Bar(ticker, day, round(price, 6), close, volume))
    t0 = datetime(2001, 1, 1, 9, 30)
    for i in range(int(rng.integers(0, 250))):
        mid = float(rng.uniform(10, 20))
        half = mid * float(rng.uniform(0, 0.002))
        ticker = TICKERS[int(rng.integers(0, 2))]
        ts = t0 + timedelta(seconds=i * 7 + int(rng.integers(0, 5)))
        bid_size, ask_size = float(rng.integers(0, 50) * 100), float(rng.integers(1, 50) * 100)
        events.append(Quote(ticker, ts, mid - half, mid + half, bid_size, ask_size))
    # (ticker, period_end, item) is the table's key: two cover-page share counts filed on the
    # same day would collide, so the second is left out.
    keys = set()
    for ticker in TICKERS[:2]:
        for year in range(2000, 2000 + int(rng.integers(1, 4))):
            period = date(year, 12, 31)
            filed = period + timedelta(days=int(rng.integers(30, 500)))
            for item in ITEMS:
                if rng.random() < item_p:
                    value = float(rng.uniform(-500, 5_000)) if item != "total_assets" else 6000.0
                    when = filed if rng.random() < 0.8 else filed + timedelta(days=40)
                    end = period if item != "shares_outstanding" else filed
                    if (ticker, end, item) not in keys:
                        keys.add((ticker, end, item))
                        events.append(Filing(ticker, when, end, item, round(value, 3)))
    for series in ("aaa", "baa", "tbilrate", "unemp"):
        for day in days[:: int(rng.integers(1, 9))]:
            if rng.random() < 0.8:
                events.append(MacroObs(series, day, round(float(rng.uniform(0, 10)), 4)))
    return events


def arrival_order(events: list[Event], rng: random.Random) -> list[Event]:
    """Time order across dates; any order within a date."""
    keyed = [(_when(e).date(), rng.random(), e) for e in events]
    keyed.sort(key=lambda t: (t[0], t[1]))
    out = [e for _, _, e in keyed]
    quotes = sorted((e for e in out if isinstance(e, Quote)), key=lambda q: q.ts)
    it = iter(quotes)
    return [next(it) if isinstance(e, Quote) else e for e in out]  # quotes keep their ts order


def with_bad_events(events: list[Event], rng: random.Random, n: int) -> list[Event]:
    """Inject exact duplicates, late/conflicting copies and unknown entities after the original."""
    out = list(events)
    for _ in range(n):
        pos = rng.randrange(len(out))
        victim = out[pos]
        kind = rng.choice(["dup", "conflict", "unknown"])
        if kind == "dup":
            bad: Event = victim
        elif isinstance(victim, Bar):
            bad = (
                Bar(victim.ticker, victim.date, victim.adj_close * 1.5, None, None)
                if kind == "conflict"
                else Bar("ZZZ", victim.date, 10.0)
            )
        elif isinstance(victim, Quote):
            bad = (
                Quote(victim.ticker, victim.ts, 1.0, 2.0, 5.0, 5.0)
                if kind == "conflict"
                else Quote("ZZZ", victim.ts, 1.0, 2.0, 5.0, 5.0)
            )
        elif isinstance(victim, Filing):
            bad = (
                Filing(victim.ticker, victim.filing_date, victim.period_end, victim.item, 1.25)
                if kind == "conflict"
                else Filing("ZZZ", victim.filing_date, victim.period_end, victim.item, 1.0)
            )
        else:
            bad = (
                MacroObs(victim.series, victim.date, victim.value + 1.0)
                if kind == "conflict"
                else MacroObs("not_a_series", victim.date, 1.0)
            )
        out.insert(rng.randrange(pos + 1, len(out) + 1), bad)
    return out


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**31),
    n_days=st.sampled_from([25, 90, 300]),
    gap_p=st.sampled_from([0.0, 0.05, 0.3]),
    market_gap_p=st.sampled_from([0.0, 0.02]),
    n_bad=st.integers(0, 40),
    restart=st.floats(0.0, 1.0),
)
def test_streaming_equals_batch(
    tmp_path: Path,
    seed: int,
    n_days: int,
    gap_p: float,
    market_gap_p: float,
    n_bad: int,
    restart: float,
) -> None:
    rng = random.Random(seed)
    clean = clean_events(seed, n_days, gap_p, market_gap_p)
    batch = batch_values(warehouse_with(clean))
    stream = arrival_order(clean, rng)
    stream = with_bad_events(stream, rng, n_bad)
    cut = int(restart * len(stream))
    universe = [MARKET_TICKER, *TICKERS]
    engine, emitted = run_stream(stream, restart_at=cut, tmp=tmp_path, universe=universe)
    assert mismatches(batch, stream_values(emitted)) == []
    # The online store holds each feature's last value from the batch.
    for entity in universe:
        for fv in engine.latest(entity):
            assert (entity, fv.feature, fv.as_of) in batch


def test_parity_covers_every_feature_on_a_long_stream(tmp_path: Path) -> None:
    """One long deterministic stream exercises every feature past its longest window."""
    clean = clean_events(7, 320, 0.02, 0.0, item_p=1.0)
    batch = batch_values(warehouse_with(clean))
    assert {name for _, name, _ in batch} == {d.name for d in all_features()}
    _, emitted = run_stream(arrival_order(clean, random.Random(7)), restart_at=900, tmp=tmp_path)
    assert mismatches(batch, stream_values(emitted)) == []


@pytest.mark.slow
def test_batch_ewma_epochs_carry_exactly() -> None:
    """The closed-form EWMA split into epochs equals the recursion (small epochs force carries)."""
    clean = [e for e in clean_events(3, 1500, 0.0, 0.0) if isinstance(e, Bar)]
    con = warehouse_with(clean)
    whole = batch_values(con)
    split = batch_values(con, epoch=512)  # lam**512 ~ 2e-14: the dropped second carry is invisible
    _, emitted = run_stream(arrival_order(clean, random.Random(3)))
    streamed = stream_values(emitted)
    assert mismatches(whole, streamed) == []
    assert mismatches(split, streamed) == []
