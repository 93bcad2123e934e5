"""The market-risk model's arithmetic on plain arrays: VaR/ES, EWMA and GARCH volatility, beta.

Everything here is a pure function of numpy arrays with a fixed order of operations, so the same
inputs give bit-identical outputs (the answer trail's replay relies on it). Losses are positive
numbers: a 99% VaR of 0.03 means a loss of 3% of the position's value is exceeded on 1% of days.
Returns are simple (arithmetic) returns unless a name says ``log``. Products are written as
element-wise sums rather than BLAS calls, whose summation order may depend on the thread count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
TRADING_DAYS = 252


def historical_var_es(returns: Array, confidence: float) -> tuple[float, float]:
    """Historical-simulation VaR and ES of one-period returns (losses positive).

    VaR is minus the (1 - confidence) empirical quantile (numpy's default linear interpolation);
    ES is minus the mean of the returns at or below that quantile.
    """
    r = np.asarray(returns, dtype=np.float64)
    q = float(np.quantile(r, 1.0 - confidence))
    tail = r[r <= q]
    es = -float(tail.mean()) if tail.size else -q
    return -q, es


def normal_var_es(sigma: float, confidence: float) -> tuple[float, float]:
    """Zero-mean normal VaR and ES for volatility ``sigma`` (same period as sigma)."""
    from scipy.stats import norm

    z = float(norm.ppf(confidence))
    return sigma * z, sigma * float(norm.pdf(z)) / (1.0 - confidence)


def student_t_var_es(sigma: float, nu: float, confidence: float) -> tuple[float, float]:
    """Zero-mean Student-t VaR and ES with ``nu`` degrees of freedom, scaled to volatility sigma.

    The t distribution's variance is nu/(nu-2), so the scale is sigma*sqrt((nu-2)/nu); ES uses the
    closed form scale * pdf(q)/(1-c) * (nu + q^2)/(nu - 1).
    """
    from scipy.stats import t

    scale = sigma * math.sqrt((nu - 2.0) / nu)
    q = float(t.ppf(confidence, nu))
    es_std = float(t.pdf(q, nu)) / (1.0 - confidence) * (nu + q * q) / (nu - 1.0)
    return scale * q, scale * es_std


def ewma_variance_path(returns: Array, lam: float, seed_obs: int = 30) -> Array:
    """RiskMetrics EWMA variance after each observation: s_t = lam*s_(t-1) + (1-lam)*r_t^2.

    Seeded with the mean square of the first ``seed_obs`` returns. Element t is the forecast for
    period t+1 made with returns up to and including t.
    """
    from scipy.signal import lfilter

    r = np.asarray(returns, dtype=np.float64)
    seed = float(np.mean(r[:seed_obs] ** 2))
    out, _ = lfilter([1.0 - lam], [1.0, -lam], r * r, zi=[lam * seed])
    return np.asarray(out, dtype=np.float64)


def ewma_volatility(returns: Array, lam: float) -> float:
    """One-period-ahead EWMA volatility forecast after the last return."""
    return math.sqrt(float(ewma_variance_path(returns, lam)[-1]))


@dataclass(frozen=True)
class GarchForecast:
    """A GARCH(1,1) fit and its volatility forecast."""

    omega: float
    alpha: float
    beta: float
    sigma_1d: float  # next-day volatility
    sigma_horizon: float  # volatility of the H-day sum (sqrt of summed daily variances)
    converged: bool


def _garch_params(u: Array, long_run: float) -> tuple[float, float, float]:
    """Unconstrained (u0, u1) -> (omega, alpha, beta) with alpha, beta > 0 and alpha + beta < 1."""
    persistence = 1.0 / (1.0 + math.exp(-float(u[0])))
    share = 1.0 / (1.0 + math.exp(-float(u[1])))
    alpha, beta = persistence * share, persistence * (1.0 - share)
    return long_run * (1.0 - persistence), alpha, beta


def garch_variance_path(r2: Array, omega: float, alpha: float, beta: float, s0: float) -> Array:
    """GARCH(1,1) variances: sigma2_t = omega + alpha r2_(t-1) + beta sigma2_(t-1), sigma2_0 = s0.

    The last element is the forecast after the last return. It is a linear filter on r^2,
    computed in C in a fixed order.
    """
    from scipy.signal import lfilter

    y, _ = lfilter([1.0], [1.0, -beta], omega + alpha * r2, zi=[beta * s0])
    return np.concatenate(([s0], np.asarray(y, dtype=np.float64)))


def garch_fit(returns: Array) -> tuple[float, float, float, bool]:
    """Variance-targeted GARCH(1,1) by Gaussian maximum likelihood: (omega, alpha, beta, ok).

    omega is tied to the sample variance (omega = s^2 (1 - alpha - beta)), which keeps the fit
    stable on short windows. Nelder-Mead from a fixed start on a likelihood built from a C
    filter has no multi-threaded reductions, so the fit is bit-identical in every process (the
    arch package's SLSQP path was not: it changed in the 8th digit with the BLAS thread count).
    """
    from scipy.optimize import minimize

    r2 = np.asarray(returns, dtype=np.float64) ** 2
    long_run = float(np.mean(r2))

    def negative_log_likelihood(u: Array) -> float:
        omega, alpha, beta = _garch_params(u, long_run)
        sig2 = garch_variance_path(r2[:-1], omega, alpha, beta, long_run)
        return 0.5 * float(np.sum(np.log(sig2) + r2 / sig2))

    start = np.array([math.log(0.97 / 0.03), math.log(0.08 / 0.89)])  # alpha .08, beta .89
    fit = minimize(
        negative_log_likelihood, start, method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 4000},
    )  # fmt: skip
    omega, alpha, beta = _garch_params(fit.x, long_run)
    return omega, alpha, beta, bool(fit.success)


def garch_forecast(returns: Array, horizon: int) -> GarchForecast:
    """Fit GARCH(1,1) (``garch_fit``) and forecast the next ``horizon`` days' volatility.

    E[sigma2_(T+k)] = s^2 + (alpha + beta)^(k-1) (sigma2_(T+1) - s^2); the H-day volatility is the
    square root of the summed daily variances.
    """
    r = np.asarray(returns, dtype=np.float64)
    r2 = r * r
    long_run = float(np.mean(r2))
    omega, alpha, beta, ok = garch_fit(r)
    next_var = float(garch_variance_path(r2, omega, alpha, beta, long_run)[-1])
    decay = (alpha + beta) ** np.arange(horizon, dtype=np.float64)
    variances = long_run + decay * (next_var - long_run)
    return GarchForecast(
        omega=omega,
        alpha=alpha,
        beta=beta,
        sigma_1d=math.sqrt(next_var),
        sigma_horizon=math.sqrt(float(np.sum(variances))),
        converged=ok,
    )


def beta_to(returns: Array, market: Array) -> float:
    """OLS beta of ``returns`` on ``market`` (same dates): cov / var."""
    r = np.asarray(returns, dtype=np.float64)
    m = np.asarray(market, dtype=np.float64)
    mc = m - m.mean()
    return float(np.sum((r - r.mean()) * mc) / np.sum(mc * mc))


def max_drawdown(returns: Array) -> float:
    """Largest peak-to-trough fall of the value path built from simple returns (positive)."""
    wealth = np.cumprod(1.0 + np.asarray(returns, dtype=np.float64))
    peaks = np.maximum.accumulate(np.concatenate(([1.0], wealth)))[1:]
    return float(np.max(1.0 - wealth / peaks))


def sqrt_time(value: float, horizon: int) -> float:
    """Square-root-of-time scaling of a one-day figure to ``horizon`` days."""
    return value * math.sqrt(horizon)


def component_var(weights: Array, returns: Array, confidence: float) -> Array:
    """Euler allocation of the normal portfolio VaR to positions: w_i * (S w)_i / sigma_p * z.

    ``returns`` has one column per position; the components sum to the portfolio normal VaR.
    """
    from scipy.stats import norm

    w = np.asarray(weights, dtype=np.float64)
    cov = covariance(np.asarray(returns, dtype=np.float64))
    cov_w = (cov * w[None, :]).sum(axis=1)
    sigma_p = math.sqrt(float(np.sum(w * cov_w)))
    z = float(norm.ppf(confidence))
    return np.asarray(w * cov_w / sigma_p * z, dtype=np.float64)


def covariance(x: Array) -> Array:
    """Sample covariance (n-1) of the columns of ``x`` without BLAS.

    BLAS matrix products may split sums differently with the thread count, so the result could
    change between machines; numpy's own summation has a fixed order (replay must be bit-exact).
    """
    xc = x - x.mean(axis=0)
    return np.asarray((xc[:, :, None] * xc[:, None, :]).sum(axis=0) / (len(x) - 1))


def portfolio_returns(returns: Array, weights: Array) -> Array:
    """Weighted sum of the columns of ``returns`` per row, in a fixed order (no BLAS)."""
    return np.asarray((returns * weights[None, :]).sum(axis=1), dtype=np.float64)
