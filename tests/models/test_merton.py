"""Merton distance to default: the solver recovers assets from a forward-priced firm."""

from __future__ import annotations

import math

import pytest
from scipy.stats import norm

from tools.errors import InsufficientData
from tools.merton import solve_merton


def forward(v: float, sigma_v: float, d: float, r: float, t: float) -> tuple[float, float]:
    d1 = (math.log(v / d) + (r + sigma_v**2 / 2) * t) / (sigma_v * math.sqrt(t))
    d2 = d1 - sigma_v * math.sqrt(t)
    equity = v * norm.cdf(d1) - d * math.exp(-r * t) * norm.cdf(d2)
    return equity, norm.cdf(d1) * sigma_v * v / equity


@pytest.mark.parametrize(
    ("v", "sigma_v", "d"),
    [(100.0, 0.25, 80.0), (1000.0, 0.08, 900.0), (50.0, 0.6, 10.0), (120.0, 0.4, 110.0)],
)
def test_solver_recovers_asset_value_and_volatility(v: float, sigma_v: float, d: float) -> None:
    r, t = 0.03, 1.0
    equity, sigma_e = forward(v, sigma_v, d, r, t)
    result = solve_merton(equity, sigma_e, d, r, t)
    assert result.converged
    assert result.asset_value == pytest.approx(v, rel=1e-8)
    assert result.asset_volatility == pytest.approx(sigma_v, rel=1e-8)
    dd = (math.log(v / d) + (r - sigma_v**2 / 2) * t) / (sigma_v * math.sqrt(t))
    assert result.distance_to_default == pytest.approx(dd, rel=1e-7)
    assert result.probability_of_default == pytest.approx(norm.cdf(-dd), rel=1e-6, abs=1e-300)


def test_more_leverage_or_volatility_means_higher_pd() -> None:
    base = solve_merton(100.0, 0.3, 100.0, 0.02).probability_of_default
    assert solve_merton(100.0, 0.3, 200.0, 0.02).probability_of_default > base
    assert solve_merton(100.0, 0.6, 100.0, 0.02).probability_of_default > base


def test_impossible_inputs_are_refused() -> None:
    with pytest.raises(InsufficientData):
        solve_merton(0.0, 0.3, 100.0, 0.02)
    with pytest.raises(InsufficientData):
        solve_merton(100.0, 0.3, -1.0, 0.02)
