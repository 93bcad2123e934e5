"""Bad events are handled by the documented policy and never change state; snapshots round-trip."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from features.definitions import MARKET_TICKER
from features.events import Bar, Filing, MacroObs, Quote, synthetic_quotes
from features.online import read_online, write_online
from features.streaming import StreamingEngine
from ingestion.errors import InputError, NotFoundError


def bars(ticker: str, n: int, start: date = date(2020, 1, 1), step: int = 1) -> list[Bar]:
    out, price = [], 100.0
    for i in range(n):
        price *= math.exp(0.01 * math.sin(i * 1.7 + len(ticker)))
        out.append(Bar(ticker, start + timedelta(days=i * step), price, price, 1e5 + i))
    return out


def by_date(*streams: list[Bar]) -> list[Bar]:
    return sorted((b for s in streams for b in s), key=lambda b: (b.date, b.ticker))


def state_of(engine: StreamingEngine, entity: str) -> dict[str, tuple[object, float | None]]:
    return {v.feature: (v.as_of, v.value) for v in engine.latest(entity)}


def clean_engine(events: list) -> StreamingEngine:
    engine = StreamingEngine(universe=["AAA", MARKET_TICKER])
    engine.process(events)
    engine.flush()
    return engine


BASE = by_date(bars("AAA", 40), bars(MARKET_TICKER, 40))


def test_late_bar_is_rejected_and_changes_nothing() -> None:
    clean = clean_engine(BASE)
    engine = StreamingEngine(universe=["AAA", MARKET_TICKER])
    late = Bar("AAA", BASE[10].date, 55.0)
    engine.process([*BASE[:30], late, *BASE[30:]])
    engine.flush()
    assert engine.stats["late"] == 1
    assert engine.rejected[-1][0] == "late"
    assert state_of(engine, "AAA") == state_of(clean, "AAA")


def test_exact_duplicate_is_dropped_and_a_different_copy_is_a_conflict() -> None:
    clean = clean_engine(BASE)
    engine = StreamingEngine(universe=["AAA", MARKET_TICKER])
    first = BASE[20]
    changed = Bar(first.ticker, first.date, first.adj_close * 2)
    engine.process([*BASE[:21], first, changed, *BASE[21:]])
    engine.flush()
    assert engine.stats["duplicate"] == 1
    assert engine.stats["conflict"] == 1
    assert state_of(engine, "AAA") == state_of(clean, "AAA")


def test_duplicate_after_flush_is_still_recognised() -> None:
    engine = StreamingEngine(universe=["AAA", MARKET_TICKER])
    engine.process(BASE)
    engine.flush()
    before = state_of(engine, "AAA")
    engine.process([BASE[-1], Bar(BASE[-1].ticker, BASE[-1].date, 1.0)])
    engine.flush()
    assert (engine.stats["duplicate"], engine.stats["conflict"]) == (1, 1)
    assert state_of(engine, "AAA") == before


def test_order_within_a_date_does_not_matter() -> None:
    reordered = sorted(BASE, key=lambda b: (b.date, b.ticker != "AAA"))  # stock before index
    assert state_of(clean_engine(reordered), "AAA") == state_of(clean_engine(BASE), "AAA")
    assert "beta_252d" not in state_of(clean_engine(BASE), "AAA")  # 40 bars: too short


def test_unknown_entities_and_invalid_events_are_rejected() -> None:
    engine = StreamingEngine(universe=["AAA", MARKET_TICKER])
    engine.process(
        [
            Bar("ZZZ", date(2020, 1, 1), 10.0),
            Bar("AAA", date(2020, 1, 1), -1.0),
            Bar("AAA", date(2020, 1, 1), float("nan")),
            Quote("AAA", datetime(2020, 1, 1, 10), 10.0, 9.0, 1.0, 1.0),  # crossed
            MacroObs("not_a_series", date(2020, 1, 1), 1.0),
            Filing("ZZZ", date(2020, 2, 1), date(2019, 12, 31), "total_assets", 1.0),
        ]
    )
    engine.flush()
    assert engine.stats["unknown_entity"] == 3
    assert engine.stats["invalid"] == 3
    assert engine.entities() == []
    assert [reason for reason, _ in engine.rejected] == [
        "unknown_entity",
        "invalid",
        "invalid",
        "invalid",
        "unknown_entity",
        "unknown_entity",
    ]


def test_gaps_are_counted_and_windows_count_observations() -> None:
    gappy = by_date(bars("AAA", 30, step=1), bars("AAA", 30, start=date(2020, 3, 1), step=1))
    engine = StreamingEngine()
    engine.process(gappy)
    engine.flush()
    assert engine.stats["gaps"] == 1
    assert engine.stats["accepted"] == 60
    # 20-bar volatility exists right after the gap: the window spans it (as in the batch SQL).
    names = {v.feature for v in engine.latest("AAA")}
    assert "realized_vol_20d" in names


def test_quotes_late_duplicate_conflict() -> None:
    t = datetime(2024, 1, 2, 9, 30)
    q1 = Quote("AAA", t, 10.0, 10.02, 100, 200)
    q2 = Quote("AAA", t + timedelta(seconds=1), 10.01, 10.03, 300, 100)
    engine = StreamingEngine(["quoted_spread_bps", "quoted_depth"])
    engine.process([q1, q2, q2, Quote("AAA", q2.ts, 9.0, 9.5, 1, 1), q1])
    assert (engine.stats["duplicate"], engine.stats["conflict"], engine.stats["late"]) == (1, 1, 1)
    depth = {v.feature: v.value for v in engine.latest("AAA")}["quoted_depth"]
    assert depth == pytest.approx((300 + 400) / 2)


def test_filing_restated_value_is_a_conflict_and_the_first_value_stands() -> None:
    filed = date(2020, 2, 20)
    items = [
        Filing("AAA", filed, date(2019, 12, 31), "total_assets", 100.0),
        Filing("AAA", filed, date(2019, 12, 31), "total_liabilities", 60.0),
    ]
    engine = StreamingEngine(["leverage"])
    engine.process(items)
    engine.process([Filing("AAA", filed, date(2019, 12, 31), "total_liabilities", 90.0)])
    engine.flush()
    assert engine.stats["conflict"] == 1
    (value,) = engine.latest("AAA")
    assert (value.as_of, value.value) == (filed, pytest.approx(0.6))


def test_snapshot_restore_continues_exactly(tmp_path: Path) -> None:
    half = len(BASE) // 2 + 1  # mid-date: one bar of the open date is buffered
    straight = clean_engine(BASE)
    engine = StreamingEngine(universe=["AAA", MARKET_TICKER])
    engine.process(BASE[:half])
    engine.snapshot(tmp_path / "snap")
    resumed = StreamingEngine.restore(tmp_path / "snap")
    assert resumed.pending_bars == engine.pending_bars
    resumed.process(BASE[half:])
    resumed.flush()
    assert state_of(resumed, "AAA") == state_of(straight, "AAA")
    assert resumed.stats == straight.stats


def test_restore_refuses_missing_or_foreign_snapshots(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        StreamingEngine.restore(tmp_path / "nothing")
    engine = StreamingEngine(["log_return_1d"])
    engine.process(BASE)
    engine.snapshot(tmp_path / "snap")
    meta_path = tmp_path / "snap" / "state.json"
    meta = json.loads(meta_path.read_text())
    meta["versions"]["log_return_1d"] = "000000000000"  # made by another definition
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(InputError):
        StreamingEngine.restore(tmp_path / "snap")


def test_online_store_is_readable_by_another_reader(tmp_path: Path) -> None:
    engine = StreamingEngine()
    engine.process(synthetic_quotes(5, 500, seed=1))
    engine.process(BASE)
    engine.flush()
    write_online(engine, tmp_path / "online")
    published = read_online(tmp_path / "online", "SYN0003")
    assert {v.feature for v in published} == {"quoted_spread_bps", "quoted_depth"}
    assert published == engine.latest("SYN0003")
    assert read_online(tmp_path / "online", "AAA") == engine.latest("AAA")
    with pytest.raises(NotFoundError):
        read_online(tmp_path / "elsewhere", "AAA")
