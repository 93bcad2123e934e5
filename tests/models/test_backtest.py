"""Kupiec and Christoffersen statistics against direct likelihood computations."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats

from tools import backtest


def test_kupiec_matches_the_binomial_likelihood_ratio() -> None:
    n, x, p = 250, 10, 0.01
    lr, pval = backtest.kupiec_pof(x, n, 0.99)
    expected = -2 * (stats.binom.logpmf(x, n, p) - stats.binom.logpmf(x, n, x / n))
    assert lr == pytest.approx(expected)
    assert pval == pytest.approx(stats.chi2.sf(expected, 1))
    assert pval < 0.01  # 10 exceptions in 250 days at 99% is rejected
    assert backtest.kupiec_pof(5, 500, 0.99) == pytest.approx((0.0, 1.0))


def test_kupiec_with_no_exceptions() -> None:
    lr, _ = backtest.kupiec_pof(0, 250, 0.99)
    assert lr == pytest.approx(-2 * 250 * math.log(0.99))


def test_christoffersen_sees_clustering() -> None:
    spread = np.zeros(1000, dtype=bool)
    spread[::100] = True  # ten isolated exceptions
    clustered = np.zeros(1000, dtype=bool)
    clustered[500:510] = True  # ten in a row
    _, p_spread = backtest.christoffersen_independence(spread)
    lr_clustered, p_clustered = backtest.christoffersen_independence(clustered)
    assert p_spread > 0.5
    assert p_clustered < 1e-6 and lr_clustered > 20


def test_basel_zones() -> None:
    assert [backtest.basel_zone(x) for x in (0, 4, 5, 9, 10)] == [
        "green",
        "green",
        "yellow",
        "yellow",
        "red",
    ]


PARAMS = {"hist_window": 500, "ewma_lambda": 0.94, "student_t_nu": 6.0,
          "garch_refit_days": 250, "garch_fit_window": 1000}  # fmt: skip


@pytest.mark.slow  # refits GARCH on two histories
def test_forecasts_use_only_past_returns() -> None:
    r = np.random.default_rng(5).normal(0, 0.01, 1500)
    changed = r.copy()
    changed[1000:] *= 5.0  # a different future from day 1000 on
    kwargs = {"window": 500, "lam": 0.94, "nu": 6.0, "garch_refit_days": 250, "garch_window": 600}
    a = backtest.var_forecasts(r, 600, 0.99, **kwargs)
    b = backtest.var_forecasts(changed, 600, 0.99, **kwargs)
    for method in backtest.METHODS:
        # Forecast i is for day 600 + i; days up to and including 1000 are forecast from the past.
        assert np.array_equal(a[method][:401], b[method][:401]), method
        assert not np.array_equal(a[method][401:], b[method][401:]), method


def test_backtest_report_on_normal_returns() -> None:
    r = np.random.default_rng(5).normal(0, 0.01, 1500)
    days = [date(2000, 1, 1) + timedelta(days=i) for i in range(1500)]
    report = backtest.backtest_var(
        days, r, start=days[600], end=days[-1], confidences=[0.99], params=PARAMS,
        methods=["historical", "normal_ewma"],
    )  # fmt: skip
    assert report["observations"] == 900
    for row in report["results"]:
        assert row["observations"] == 900
        assert row["exception_rate"] < 0.03  # normal data: about 1%
        assert 0.0 <= row["kupiec_p"] <= 1.0 and 0.0 <= row["christoffersen_p"] <= 1.0
