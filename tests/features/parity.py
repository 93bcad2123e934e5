"""Helpers shared by the feature tests: build tables from events, run both paths, compare."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from features.definitions import by_source, select
from features.engines.sql import feature_query
from features.events import Bar, Event, Filing, MacroObs, Quote
from features.streaming import StreamingEngine
from features.values import FeatureValue
from ingestion.schemas import MIGRATIONS as TABLE_MIGRATIONS
from ingestion.warehouse import apply_migrations

REL = 1e-9
ABS = 1e-12  # values that are zero up to rounding (a drawdown at the high, a flat spread)


def warehouse_with(events: Sequence[Event]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse whose tables hold exactly ``events``."""
    import pandas as pd

    from features.schema import MIGRATIONS as FEATURE_MIGRATIONS

    con = duckdb.connect()
    apply_migrations(con, [*TABLE_MIGRATIONS, *FEATURE_MIGRATIONS])
    tables = {
        "prices": [
            (b.ticker, b.date, None, None, None, b.close, b.adj_close, b.volume, "USD", "test")
            for b in events
            if isinstance(b, Bar)
        ],
        "quotes": [
            (q.ticker, q.ts, q.bid, q.ask, q.bid_size, q.ask_size, "test")
            for q in events
            if isinstance(q, Quote)
        ],
        "fundamentals": [
            (
                f.ticker,
                f.period_end.year,
                f.period_end,
                f.filing_date,
                f.item,
                f.value,
                "USD m",
                "doc",
                1,
            )
            for f in events
            if isinstance(f, Filing)
        ],
        "macro": [
            (m.series, m.date, m.value, "percent", "M", "test")
            for m in events
            if isinstance(m, MacroObs)
        ],
    }
    for table, rows in tables.items():
        if rows:
            columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            frame = pd.DataFrame(rows, columns=columns)  # noqa: F841 - read by DuckDB below
            con.execute(f"INSERT INTO {table} SELECT * FROM frame")
    return con


def batch_values(con: duckdb.DuckDBPyConnection, *, epoch: int | None = None) -> dict:
    """(entity, feature, ts) -> value from the batch SQL, every row."""
    out = {}
    for source, defs in by_source(select(None)).items():
        kwargs = {"epoch": epoch} if epoch else {}
        for entity, ts, name, value in con.execute(
            feature_query(source, defs, **kwargs)
        ).fetchall():
            out[(entity, name, ts)] = value
    return out


def stream_values(values: Sequence[FeatureValue]) -> dict:
    out = {}
    for v in values:
        out[(v.entity, v.feature, v.as_of)] = v.value
    return out


def close(a: float, b: float) -> bool:
    return abs(a - b) <= max(REL * max(abs(a), abs(b)), ABS)


def mismatches(batch: dict, stream: dict) -> list[str]:
    problems = []
    for key in sorted(set(batch) | set(stream), key=str):
        a, b = batch.get(key), stream.get(key)
        if a is None or b is None or not close(a, b):
            problems.append(f"{key}: batch={a} stream={b}")
    return problems


def run_stream(
    events: Sequence[Event], *, restart_at: int | None = None, tmp=None, universe=None
) -> tuple[StreamingEngine, list[FeatureValue]]:
    engine = StreamingEngine(universe=universe)
    emitted: list[FeatureValue] = []
    cut = len(events) if restart_at is None else restart_at
    emitted += engine.process(events[:cut], emit=True)
    if restart_at is not None:
        engine.snapshot(tmp / "snap")
        engine = StreamingEngine.restore(tmp / "snap")
        emitted += engine.process(events[cut:], emit=True)
    emitted += engine.flush(emit=True)
    return engine, emitted
