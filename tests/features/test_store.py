"""Batch materialization and point-in-time reads on real warehouse files: no look-ahead, ever."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from features.batch import materialize, refresh
from features.definitions import feature
from features.store import get_feature_history, get_features, list_features
from ingestion.demo_sources import fundamentals as demo_fundamentals
from ingestion.errors import NotFoundError, StoreError
from ingestion.tables import load_table

FILING_FEATURES = [
    "leverage",
    "altman_x1_working_capital_to_assets",
    "altman_x2_retained_earnings_to_assets",
    "altman_x3_ebit_to_assets",
    "altman_x4_book_equity_to_liabilities",
    "altman_x5_sales_to_assets",
]


def price_frame(ticker: str, start: date, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(start, periods=n)
    prices = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, n)))
    return pd.DataFrame({"ticker": ticker, "date": days, "adj_close": prices})


def load(rt, table: str, frame: pd.DataFrame, name: str) -> None:  # noqa: ANN001
    load_table(rt.warehouse, table, frame, loaded_by="test", source_name=name)


def filing_rows(ticker: str, period: date, filed: date, values: dict[str, float]) -> list[dict]:
    return [
        {
            "ticker": ticker,
            "fiscal_year": period.year,
            "period_end": period,
            "filing_date": filed,
            "item": item,
            "value": value,
            "unit": "USD millions",
            "source_doc": f"{ticker}_{period.year}_10K",
            "source_page": 1,
        }
        for item, value in values.items()
    ]


def test_fundamentals_are_invisible_before_their_filing_date(runtime) -> None:  # noqa: ANN001
    fy1 = filing_rows(
        "ACME",
        date(2019, 12, 31),
        date(2020, 2, 20),
        {"total_assets": 100.0, "total_liabilities": 60.0},
    )
    fy2 = filing_rows(
        "ACME",
        date(2020, 12, 31),
        date(2021, 2, 25),
        {"total_assets": 100.0, "total_liabilities": 90.0},
    )
    load(runtime, "fundamentals", pd.DataFrame(fy1 + fy2), "acme.csv")
    materialize(runtime.warehouse, ["leverage"])

    def leverage(as_of: date) -> tuple[date, float] | None:
        with runtime.warehouse.reader() as con:
            found = get_features(con, ["ACME"], ["leverage"], as_of)
        return (found[0].as_of, found[0].value) if found else None

    # The FY2020 balance sheet (period end 2020-12-31) is not known until its filing date.
    assert leverage(date(2020, 2, 19)) is None
    assert leverage(date(2020, 2, 20)) == (date(2020, 2, 20), pytest.approx(0.6))
    assert leverage(date(2020, 12, 31)) == (date(2020, 2, 20), pytest.approx(0.6))
    assert leverage(date(2021, 2, 24)) == (date(2020, 2, 20), pytest.approx(0.6))
    assert leverage(date(2021, 2, 25)) == (date(2021, 2, 25), pytest.approx(0.9))
    assert leverage(None) == (date(2021, 2, 25), pytest.approx(0.9))


def _expected_from_known_rows(rows: pd.DataFrame, ticker: str, as_of: date) -> dict[str, float]:
    """Independent point-in-time computation: only rows filed on or before ``as_of``."""
    known = rows[(rows.ticker == ticker) & (rows.filing_date.dt.date <= as_of)]
    used = known[known.item != "shares_outstanding"]
    if used.empty:
        return {}
    latest = used[used.period_end == used.period_end.max()].set_index("item")["value"]
    get = latest.get
    out = {}
    ta, tl = get("total_assets"), get("total_liabilities")
    pairs = {
        "leverage": (tl, ta),
        "altman_x1_working_capital_to_assets": (
            None
            if get("current_assets") is None or get("current_liabilities") is None
            else get("current_assets") - get("current_liabilities"),
            ta,
        ),
        "altman_x2_retained_earnings_to_assets": (get("retained_earnings"), ta),
        "altman_x3_ebit_to_assets": (get("operating_income"), ta),
        "altman_x4_book_equity_to_liabilities": (get("total_equity"), tl),
        "altman_x5_sales_to_assets": (get("revenue"), ta),
    }
    for name, (num, den) in pairs.items():
        if num is not None and den:
            out[name] = num / den
    return out


def test_demo_fundamentals_point_in_time_match_an_independent_computation(runtime) -> None:  # noqa: ANN001
    rows = demo_fundamentals()
    load(runtime, "fundamentals", rows, "demo fundamentals")
    materialize(runtime.warehouse, FILING_FEATURES)
    checked = 0
    with runtime.warehouse.reader() as con:
        for ticker in sorted(set(rows.ticker)):
            days = sorted(set(rows[rows.ticker == ticker].filing_date.dt.date))
            for as_of in sorted({d + timedelta(days=k) for d in days for k in (-1, 0, 1)}):
                found = get_features(con, [ticker], FILING_FEATURES, as_of)
                assert all(v.as_of <= as_of for v in found)
                got = {v.feature: v.value for v in found}
                want = _expected_from_known_rows(rows, ticker, as_of)
                assert got.keys() == want.keys(), (ticker, as_of)
                for name in want:
                    assert got[name] == pytest.approx(want[name], rel=1e-12), (ticker, as_of, name)
                    checked += 1
    assert checked > 50


def test_bar_features_use_only_prices_up_to_their_date(runtime) -> None:  # noqa: ANN001
    frame = price_frame("ACME", date(2020, 1, 1), 300, seed=1)
    load(runtime, "prices", frame, "acme prices")
    materialize(runtime.warehouse, ["realized_vol_20d", "log_return_1d"])
    as_of = frame.date.iloc[150].date()
    with runtime.warehouse.reader() as con:
        before = get_features(con, ["ACME"], ["realized_vol_20d"], as_of)[0]
    known = frame[frame.date.dt.date <= as_of].adj_close.to_numpy()
    returns = np.diff(np.log(known))[-20:]
    assert before.as_of == as_of
    assert before.value == pytest.approx(returns.std(ddof=1) * math.sqrt(252), rel=1e-12)
    # Rewriting the future changes nothing at as_of.
    future = frame.copy()
    future.loc[future.date.dt.date > as_of, "adj_close"] *= 3.0
    load(runtime, "prices", future, "acme prices, future rewritten")
    materialize(runtime.warehouse, ["realized_vol_20d"])
    with runtime.warehouse.reader() as con:
        after = get_features(con, ["ACME"], ["realized_vol_20d"], as_of)[0]
        history = get_feature_history(con, "ACME", "realized_vol_20d", as_of, None)
    assert after == before
    assert [v.as_of for v in history] == sorted(v.as_of for v in history)
    assert history[0].as_of == as_of


def _table(rt) -> list[tuple]:  # noqa: ANN001
    with rt.warehouse.reader() as con:
        return con.execute(
            "SELECT entity, feature, version, as_of, value FROM feature_values "
            "ORDER BY entity, feature, as_of"
        ).fetchall()


def test_incremental_since_equals_a_full_recompute(runtime) -> None:  # noqa: ANN001
    frame = pd.concat(
        [price_frame(t, date(2019, 1, 1), 600, seed=i) for i, t in enumerate(["^GSPC", "AAA"])]
    )
    load(runtime, "prices", frame, "prices v1")
    materialize(runtime.warehouse)
    cut = frame.date.iloc[450].date()
    changed = frame.copy()
    changed.loc[changed.date.dt.date >= cut, "adj_close"] *= 1.1
    load(runtime, "prices", changed, "prices v2")
    reports = materialize(runtime.warehouse, since=cut)
    assert {r.since for r in reports} == {cut}
    incremental = _table(runtime)
    materialize(runtime.warehouse)
    full = _table(runtime)
    assert len(incremental) == len(full)
    for a, b in zip(incremental, full, strict=True):
        assert a[:4] == b[:4]
        assert a[4] == pytest.approx(b[4], rel=1e-9, abs=1e-12)


def test_refresh_skips_fresh_features_and_recomputes_after_new_data(runtime) -> None:  # noqa: ANN001
    load(runtime, "prices", price_frame("AAA", date(2020, 1, 1), 50, seed=3), "v1")
    first = refresh(runtime.warehouse, lambda _m: None)
    assert "computed" in first
    assert refresh(runtime.warehouse, lambda _m: None).startswith("all ")
    load(runtime, "prices", price_frame("BBB", date(2020, 1, 1), 50, seed=4), "v2")
    third = refresh(runtime.warehouse, lambda _m: None)
    assert third.startswith("8 of ")  # the bar features only
    with runtime.warehouse.reader() as con:
        listed = {row["name"]: row for row in list_features(con)}
    assert listed["log_return_1d"]["fresh_as_of"] is not None
    assert listed["leverage"]["fresh_as_of"] is None
    assert listed["log_return_1d"]["version"] == feature("log_return_1d").version


def test_reads_explain_what_is_missing(runtime) -> None:  # noqa: ANN001
    import duckdb

    with pytest.raises(StoreError, match="materialize"):
        get_features(duckdb.connect(), ["AAA"], None, None)
    with runtime.warehouse.reader() as con:
        with pytest.raises(NotFoundError, match="known features"):
            get_features(con, ["AAA"], ["volatility"], None)
        assert get_features(con, ["AAA"], None, None) == []
