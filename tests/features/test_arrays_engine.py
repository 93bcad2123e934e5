"""The arrays batch engine writes the SQL engine's rows: same keys, values within 1e-9 relative."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from app.cli import cli
from features.batch import materialize
from features.definitions import by_source, select
from features.engines.arrays import evaluate_blocks, read_source
from ingestion.errors import InputError
from ingestion.tables import load_table


def run(*args: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["features", "materialize", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def stored(rt) -> dict[tuple, float]:  # noqa: ANN001
    with rt.warehouse.reader() as con:
        rows = con.execute(
            "SELECT entity, feature, version, as_of, value FROM feature_values"
        ).fetchall()
    return {tuple(r[:4]): r[4] for r in rows}


def assert_same(a: dict[tuple, float], b: dict[tuple, float]) -> None:
    assert a.keys() == b.keys()
    keys = list(a)
    x = np.array([a[k] for k in keys])
    y = np.array([b[k] for k in keys])
    worst = np.abs(x - y) / np.maximum(np.maximum(np.abs(x), np.abs(y)), 1e-300)
    close = (worst <= 1e-9) | (np.abs(x - y) <= 1e-12)
    assert close.all(), [(keys[i], x[i], y[i]) for i in np.flatnonzero(~close)[:5]]


@pytest.mark.slow
def test_arrays_engine_writes_the_sql_values_full_and_since(demo_runtime) -> None:  # noqa: ANN001
    sql_reports = run("--engine", "sql")
    sql_values = stored(demo_runtime)
    sources = {d.source for d in select(None)}
    kinds = {k[1] for k in sql_values}
    # Every source the demo has reaches the comparison (bars, filings, macro at least).
    assert {d.name for d in select(None) if d.source in ("bars", "filings", "macro")} <= kinds
    assert "bars" in sources

    arrays_reports = run("--engine", "arrays")
    arrays_values = stored(demo_runtime)
    assert [(r["feature"], r["rows"]) for r in arrays_reports] == [
        (r["feature"], r["rows"]) for r in sql_reports
    ]
    assert_same(arrays_values, sql_values)

    # Incremental: --since recomputes only rows dated >= since, and leaves the rest as stored.
    cut = date(2018, 6, 1)
    with demo_runtime.warehouse.writer() as con:
        con.execute("UPDATE feature_values SET value = -12345.0 WHERE as_of < ?", [cut])
    since_reports = run("--engine", "arrays", "--since", cut.isoformat())
    assert {r["since"] for r in since_reports} == {cut.isoformat()}
    after = stored(demo_runtime)
    assert after.keys() == sql_values.keys()
    assert all(after[k] == -12345.0 for k in after if k[3] < cut)
    assert_same(
        {k: v for k, v in after.items() if k[3] >= cut},
        {k: v for k, v in sql_values.items() if k[3] >= cut},
    )
    # The SQL engine's --since writes the same rows.
    run("--engine", "sql", "--since", cut.isoformat())
    assert_same(stored(demo_runtime), after)


def test_values_do_not_depend_on_the_entity_groups_or_threads(runtime) -> None:  # noqa: ANN001
    rng = np.random.default_rng(7)
    frames = []
    for i, (ticker, n) in enumerate([("^GSPC", 400), ("AAA", 37), ("BBB", 300), ("CCC", 1)]):
        days = pd.bdate_range(date(2019, 1, 1) + pd.Timedelta(days=3 * i), periods=n)
        prices = 40 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
        frames.append(
            pd.DataFrame(
                {
                    "ticker": ticker,
                    "date": days,
                    "adj_close": prices,
                    "close": prices,
                    # missing values inside the windows
                    "volume": np.where(rng.random(n) < 0.05, np.nan, rng.integers(1, 10_000, n)),
                }
            )
        )
    load_table(runtime.warehouse, "prices", pd.concat(frames), loaded_by="test", source_name="t")
    definitions = by_source(select(None))["bars"]
    with runtime.warehouse.reader() as con:
        src = read_source(con, "bars", definitions)
    assert list(src.entities.to_pylist()) == ["AAA", "BBB", "CCC", "^GSPC"]

    def values(group_rows: int, threads: int = 1) -> np.ndarray:
        out = np.full((len(definitions), src.rows), np.nan)
        seen = np.zeros(src.rows, dtype=int)
        for block in evaluate_blocks(definitions, src, group_rows, threads):
            seen[block.positions] += 1
            for i, v in enumerate(block.values):
                out[i, block.positions] = v
        assert (seen == 1).all()  # every row evaluated exactly once
        return out

    whole = values(10**6)
    assert np.isfinite(whole).sum() > 1000
    # Entity groups and threads change nothing (NaN where NaN).
    np.testing.assert_array_equal(values(1), whole)
    np.testing.assert_array_equal(values(300, threads=2), whole)

    materialize(runtime.warehouse, engine="arrays")
    arrays_values = stored(runtime)
    materialize(runtime.warehouse, engine="sql")
    assert_same(arrays_values, stored(runtime))


def test_unknown_engine_is_an_input_error(runtime) -> None:  # noqa: ANN001
    with pytest.raises(InputError, match="unknown batch engine"):
        materialize(runtime.warehouse, engine="gpu")
    result = CliRunner().invoke(cli, ["features", "materialize", "--engine", "gpu"])
    assert result.exit_code != 0


def _quotes_connection(rows: int, seed: int):  # noqa: ANN202
    import duckdb

    rng = np.random.default_rng(seed)
    tickers = rng.choice(["AAA", "BBB", "C'Q"], rows)
    base = np.datetime64("2024-01-02T09:30:00", "us")
    ts = base + rng.integers(0, 10 * 86_400_000_000, rows).astype("timedelta64[us]")
    mid = 100 + rng.normal(0, 1, rows)
    spread = rng.uniform(0.01, 0.2, rows)
    frame = pd.DataFrame(
        {
            "ticker": tickers,
            "ts": ts,
            "bid": mid - spread / 2,
            "ask": mid + spread / 2,
            "bid_size": rng.integers(1, 500, rows).astype(float),
            "ask_size": rng.integers(1, 500, rows).astype(float),
        }
    ).sample(frac=1.0, random_state=seed)  # stored in no particular order
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE quotes AS SELECT * FROM frame")
    con.unregister("frame")
    return con


def test_unsorted_timestamped_source_equals_the_sql_engine() -> None:
    from features.engines.arrays import stage_long
    from features.engines.sql import feature_query

    con = _quotes_connection(3000, seed=5)
    definitions = by_source(select(None))["quotes"]
    want = con.execute(feature_query("quotes", definitions)).fetchall()
    got = con.execute(stage_long(con, "quotes", definitions)).fetchall()
    assert len(want) > 2000
    assert_same({tuple(r[:3]): r[3] for r in got}, {tuple(r[:3]): r[3] for r in want})
    cut = date(2024, 1, 7)
    got_since = con.execute(stage_long(con, "quotes", definitions, since=cut)).fetchall()
    want_since = con.execute(feature_query("quotes", definitions, since=cut)).fetchall()
    assert 0 < len(got_since) < len(got)
    assert_same({tuple(r[:3]): r[3] for r in got_since}, {tuple(r[:3]): r[3] for r in want_since})


def test_a_repeated_entity_and_ts_is_refused() -> None:
    con = _quotes_connection(200, seed=6)
    con.execute("INSERT INTO quotes SELECT * FROM quotes LIMIT 1")
    definitions = by_source(select(None))["quotes"]
    with pytest.raises(InputError, match="repeated"):
        read_source(con, "quotes", definitions)


def test_group_order_sorts_by_code_then_stamp_and_finds_repeats() -> None:
    from features.kernels import group_order

    rng = np.random.default_rng(7)
    codes = rng.integers(0, 50, 5_000).astype(np.int32)
    stamps = rng.permutation(5_000).astype(np.int64)  # distinct: no repeats
    order, repeated = group_order(codes, stamps, 50)
    assert order is not None and not repeated
    assert np.array_equal(order, np.lexsort((stamps, codes)))
    ordered = np.lexsort((stamps, codes))
    assert group_order(codes[ordered], stamps[ordered], 50) == (None, False)  # in order: no copy
    stamps[1] = stamps[0]
    codes[1] = codes[0]  # one entity, one ts, twice
    assert group_order(codes, stamps, 50)[1]
