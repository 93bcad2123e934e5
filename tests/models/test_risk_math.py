"""The risk model's arithmetic against independent computations on plain arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from tools import risk_math


@pytest.fixture
def returns() -> np.ndarray:
    return np.random.default_rng(42).standard_t(5, size=2000) * 0.01


def test_historical_var_es_match_sorted_losses() -> None:
    r = np.arange(1, 101, dtype=float) / -1000.0  # -0.001 .. -0.100
    var, es = risk_math.historical_var_es(r, 0.95)
    # numpy's linear quantile at 5% of 100 sorted values sits between the 5th and 6th smallest.
    srt = np.sort(r)
    q = srt[4] + 0.95 * (srt[5] - srt[4])
    assert var == pytest.approx(-q)
    assert es == pytest.approx(-srt[srt <= q].mean())
    assert es >= var


def test_normal_var_es_closed_form() -> None:
    var, es = risk_math.normal_var_es(0.02, 0.99)
    assert var == pytest.approx(0.02 * 2.326347874, rel=1e-9)
    tail = integrate.quad(lambda x: x * stats.norm.pdf(x, scale=0.02), 0.02 * 2.326347874, 1)[0]
    assert es == pytest.approx(tail / 0.01, rel=1e-6)


def test_student_t_var_es_has_the_stated_volatility_and_tail() -> None:
    sigma, nu, c = 0.015, 4.0, 0.99
    var, es = risk_math.student_t_var_es(sigma, nu, c)
    scale = sigma * math.sqrt((nu - 2) / nu)
    assert stats.t.std(nu, scale=scale) == pytest.approx(sigma)
    assert var == pytest.approx(stats.t.ppf(c, nu, scale=scale))
    tail = integrate.quad(lambda x: x * stats.t.pdf(x, nu, scale=scale), var, np.inf)[0]
    assert es == pytest.approx(tail / (1 - c), rel=1e-6)
    assert var > risk_math.normal_var_es(sigma, c)[0]  # fatter tail at 99%


def test_ewma_path_matches_the_recursion(returns: np.ndarray) -> None:
    lam = 0.94
    path = risk_math.ewma_variance_path(returns, lam, seed_obs=30)
    s = float(np.mean(returns[:30] ** 2))
    for i, x in enumerate(returns):
        s = lam * s + (1 - lam) * x * x
        if i in (0, 100, len(returns) - 1):
            assert path[i] == pytest.approx(s, rel=1e-12)
    assert risk_math.ewma_volatility(returns, lam) == pytest.approx(math.sqrt(s), rel=1e-12)


def test_garch_fit_recovers_a_simulated_process() -> None:
    rng = np.random.default_rng(7)
    omega, alpha, beta = 2e-6, 0.08, 0.9
    n = 4000
    r = np.empty(n)
    var = omega / (1 - alpha - beta)
    for t in range(n):
        r[t] = math.sqrt(var) * rng.standard_normal()
        var = omega + alpha * r[t] ** 2 + beta * var
    fit = risk_math.garch_forecast(r, horizon=10)
    assert fit.converged
    assert fit.alpha == pytest.approx(alpha, abs=0.04)
    assert fit.beta == pytest.approx(beta, abs=0.05)
    assert fit.sigma_horizon > fit.sigma_1d  # ten days of variance


def test_beta_drawdown_and_scaling() -> None:
    m = np.random.default_rng(1).normal(0, 0.01, 500)
    assert risk_math.beta_to(2 * m + 0.001, m) == pytest.approx(2.0)
    assert risk_math.max_drawdown(np.array([0.1, -0.5, 0.2, 0.1])) == pytest.approx(0.5)
    assert risk_math.max_drawdown(np.array([0.01, 0.02])) == 0.0
    assert risk_math.sqrt_time(0.02, 9) == pytest.approx(0.06)


def test_component_var_sums_to_portfolio_normal_var() -> None:
    rng = np.random.default_rng(3)
    x = rng.multivariate_normal([0, 0, 0], [[1, 0.5, 0.2], [0.5, 2, 0.1], [0.2, 0.1, 1.5]], 3000)
    x *= 0.01
    w = np.array([0.5, 0.3, 0.2])
    parts = risk_math.component_var(w, x, 0.99)
    sigma_p = float(np.std(x @ w, ddof=1))
    assert parts.sum() == pytest.approx(risk_math.normal_var_es(sigma_p, 0.99)[0], rel=1e-9)


@pytest.mark.parametrize("window", [slice(-2500, None), slice(-3000, -1500)])
def test_own_garch_agrees_with_the_arch_package_on_real_returns(window: slice) -> None:
    """The own GARCH(1,1) stays for its bit-for-bit replay; on the same data it must agree with
    arch's GARCH(1,1) (full Gaussian MLE; ours targets the variance, so small differences)."""
    from arch.data import sp500
    from arch.univariate import GARCH, Normal, ZeroMean

    prices = sp500.load()["Adj Close"]
    r = np.log(prices).diff().dropna().to_numpy()[window]
    ours = risk_math.garch_forecast(r, horizon=10)
    model = ZeroMean(r * 100, volatility=GARCH(p=1, q=1), distribution=Normal())
    fit = model.fit(disp="off")
    assert ours.converged and fit.convergence_flag == 0
    assert abs(ours.alpha - fit.params["alpha[1]"]) < 0.02
    assert abs(ours.beta - fit.params["beta[1]"]) < 0.02
    variances = fit.forecast(horizon=10, reindex=False).variance.to_numpy()[-1] / 100**2
    assert ours.sigma_1d == pytest.approx(math.sqrt(variances[0]), rel=0.02)
    assert ours.sigma_horizon == pytest.approx(math.sqrt(variances.sum()), rel=0.02)
