"""The generalization set's reference code: its conventions on a hand-made price file, and the
stored gold values against a fresh demo warehouse (no drift between the files and the code)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from evals.gold import analyst_reference as ref
from evals.gold import analyst_set

CLOSES = [100.0, 110.0, 99.0, 121.0, 90.75, 100.0]  # 2021-01-04 .. 2021-01-09, one a day
MARKET = [10.0, 10.5, 10.0, 11.0, 10.0, 10.2]


@pytest.fixture()
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    db = duckdb.connect(str(tmp_path / "w.duckdb"))
    db.execute("CREATE TABLE prices (ticker VARCHAR, date DATE, adj_close DOUBLE, close DOUBLE, "
               "high DOUBLE, low DOUBLE, open DOUBLE, volume DOUBLE)")  # fmt: skip
    start = date(2021, 1, 3)
    db.execute(
        "INSERT INTO prices VALUES ('XYZ', DATE '2020-12-31', 95, NULL, NULL, NULL, NULL, 1)"
    )
    for k, (px, mk) in enumerate(zip(CLOSES, MARKET, strict=True), start=1):
        day = start + timedelta(days=k)
        db.execute(
            "INSERT INTO prices VALUES ('XYZ', ?, ?, NULL, NULL, NULL, NULL, ?), "
            "('^GSPC', ?, ?, NULL, NULL, NULL, NULL, NULL)",
            [day, px, 1000 * k, day, mk],
        )
    db.execute("INSERT INTO prices VALUES ('^GSPC', DATE '2020-12-31', 9.9, NULL, NULL, NULL, "
               "NULL, NULL), ('XYZ', DATE '2021-02-01', 1, NULL, NULL, NULL, NULL, 1), "
               "('^GSPC', DATE '2021-02-01', 1, NULL, NULL, NULL, NULL, NULL)")  # fmt: skip
    return db


WINDOW = {"ticker": "XYZ", "start": "2021-01-04", "end": "2021-01-09"}


def test_window_conventions_on_a_hand_made_series(con: duckdb.DuckDBPyConnection) -> None:
    ret = ref.window_return(con, WINDOW)
    assert ret["value"] == pytest.approx(0.0)  # 100 -> 100, closes inside the window
    assert ret["alternatives"][0]["value"] == pytest.approx(100 / 95 - 1)  # base before it
    dd = ref.window_drawdown(con, WINDOW)
    assert dd["value"] == pytest.approx(90.75 / 121 - 1)  # peak 121, trough 90.75
    vol = ref.window_vol(con, WINDOW)
    logs = np.diff(np.log(CLOSES))
    assert vol["value"] == pytest.approx(np.std(logs, ddof=1) * math.sqrt(252))
    extreme = ref.window_extreme(con, {**WINDOW, "which": "high"})
    assert extreme["value"] == 121.0
    volume = ref.window_volume(con, WINDOW)
    assert volume["value"] == pytest.approx(3500.0)
    beta = ref.window_beta(con, WINDOW)
    m = np.diff(np.log(MARKET))
    assert beta["value"] == pytest.approx(np.polyfit(m, logs, 1)[0])
    corr = ref.window_correlation(con, {**WINDOW, "other": "^GSPC"})
    assert corr["value"] == pytest.approx(np.corrcoef(logs, m)[0, 1])


def test_windows_outside_the_data_are_declines(con: duckdb.DuckDBPyConnection) -> None:
    late = {**WINDOW, "end": "2021-03-01"}
    early = {**WINDOW, "start": "2020-06-01"}
    for fn in (ref.window_return, ref.window_drawdown, ref.window_vol):
        assert fn(con, late)["answer"] == "decline"
        assert fn(con, early)["answer"] == "decline"
    assert ref.gold(con, {"kind": "decline", "reason": "x"}) == {"answer": "decline", "reason": "x"}


def test_the_rankings_leave_out_indices_and_barred_tickers(con: duckdb.DuckDBPyConnection) -> None:
    spec = {"kind": "ranking", "order": "best", "n": 1, **WINDOW}
    assert ref.gold(con, spec)["tickers"] == ["XYZ"]
    assert ref.gold(con, {**spec, "barred": ["XYZ"]})["tickers"] == []


@pytest.mark.slow
def test_stored_gold_matches_the_reference_on_the_demo(demo_home: Path) -> None:
    db = duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True)
    try:
        fresh = analyst_set.regold(db, analyst_set.load())
    finally:
        db.close()
    assert [i["id"] for i in fresh if i["drift"]] == []
