"""VaR backtests: rolling one-day VaR forecasts on real history; Kupiec and Christoffersen tests.

Each day's VaR is forecast only from returns before that day. An exception is a day whose loss
exceeds its VaR. Kupiec's proportion-of-failures test asks whether the exception rate matches
1 - confidence; Christoffersen's test asks whether exceptions are independent (no clustering); the
conditional-coverage statistic is their sum (chi-squared with 2 degrees of freedom).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tools.risk_math import Array, ewma_variance_path, garch_fit, garch_variance_path

METHODS = ("historical", "normal_ewma", "student_t_ewma", "garch")


def _xlogy(x: float, y: float) -> float:
    return 0.0 if x == 0 else x * math.log(y)


def kupiec_pof(exceptions: int, observations: int, confidence: float) -> tuple[float, float]:
    """Kupiec proportion-of-failures likelihood ratio and its chi-squared(1) p-value."""
    from scipy.stats import chi2

    p = 1.0 - confidence
    x, n = exceptions, observations
    rate = x / n
    null = _xlogy(n - x, 1.0 - p) + _xlogy(x, p)
    alt = _xlogy(n - x, 1.0 - rate) + _xlogy(x, rate)
    lr = max(0.0, -2.0 * (null - alt))
    return lr, float(chi2.sf(lr, 1))


def christoffersen_independence(hits: NDArray[np.bool_]) -> tuple[float, float]:
    """Christoffersen's independence likelihood ratio and its chi-squared(1) p-value."""
    from scipy.stats import chi2

    h = np.asarray(hits, dtype=bool)
    prev, curr = h[:-1], h[1:]
    n00 = int(np.sum(~prev & ~curr))
    n01 = int(np.sum(~prev & curr))
    n10 = int(np.sum(prev & ~curr))
    n11 = int(np.sum(prev & curr))
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    null = _xlogy(n00 + n10, 1.0 - pi) + _xlogy(n01 + n11, pi)
    alt = _xlogy(n00, 1.0 - pi01) + _xlogy(n01, pi01) + _xlogy(n10, 1.0 - pi11) + _xlogy(n11, pi11)
    lr = max(0.0, -2.0 * (null - alt))
    return lr, float(chi2.sf(lr, 1))


def basel_zone(exceptions_last_250: int) -> str:
    """Basel traffic light for 99% VaR over 250 days: green <= 4, yellow 5-9, red >= 10."""
    if exceptions_last_250 <= 4:
        return "green"
    return "yellow" if exceptions_last_250 <= 9 else "red"


def rolling_sigma_garch(returns: Array, start: int, refit_every: int, fit_window: int) -> Array:
    """One-day GARCH(1,1) volatility forecasts for days start..end, refitted every N days.

    Parameters are estimated (``risk_math.garch_fit``) on the ``fit_window`` returns before each
    refit day; the variance is filtered through the whole history with the current parameters.
    """
    r = np.asarray(returns, dtype=np.float64)
    r2 = r * r
    out = np.empty(len(r) - start, dtype=np.float64)
    for block in range(start, len(r), refit_every):
        window = r[max(0, block - fit_window) : block]
        omega, alpha, beta, _ = garch_fit(window)
        long_run = float(np.mean(window * window))
        first = max(0, block - fit_window)
        # Variance path over the fit window and on through the block: element k forecasts day
        # first + k from returns before it.
        stop = min(len(r), block + refit_every)
        path = garch_variance_path(r2[first : stop - 1], omega, alpha, beta, long_run)
        out[block - start : stop - start] = np.sqrt(path[block - first : stop - first])
    return out


def var_forecasts(
    returns: Array, start: int, confidence: float, *, window: int, lam: float, nu: float,
    garch_refit_days: int, garch_window: int, methods: Sequence[str] = METHODS,
) -> dict[str, Array]:  # fmt: skip
    """One-day VaR forecasts (positive losses) for days ``start..`` by each method."""
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy.stats import norm, t

    r = np.asarray(returns, dtype=np.float64)
    if start < window:
        raise ValueError("start must leave a full window of history")
    out: dict[str, Array] = {}
    if "historical" in methods:
        windows = sliding_window_view(r, window)[start - window : len(r) - window]
        out["historical"] = -np.quantile(windows, 1.0 - confidence, axis=1)
    sigma_ewma = np.sqrt(ewma_variance_path(r, lam))[start - 1 : len(r) - 1]
    if "normal_ewma" in methods:
        out["normal_ewma"] = sigma_ewma * float(norm.ppf(confidence))
    if "student_t_ewma" in methods:
        scale = math.sqrt((nu - 2.0) / nu)
        out["student_t_ewma"] = sigma_ewma * scale * float(t.ppf(confidence, nu))
    if "garch" in methods:
        sigma_garch = rolling_sigma_garch(r, start, garch_refit_days, garch_window)
        out["garch"] = sigma_garch * float(norm.ppf(confidence))
    return out


def backtest_var(
    dates: Sequence[date], returns: Array, *, start: date, end: date,
    confidences: Sequence[float], params: dict[str, Any], methods: Sequence[str] = METHODS,
    stress_year: int = 2008,
) -> dict[str, Any]:  # fmt: skip
    """Backtest each method's one-day VaR on ``returns`` over [start, end]; a JSON-ready report."""
    r = np.asarray(returns, dtype=np.float64)
    days = list(dates)
    first = next(i for i, d in enumerate(days) if d >= start)
    last = max(i for i, d in enumerate(days) if d <= end)
    r = r[: last + 1]
    test_days = days[first : last + 1]
    realized = r[first:]
    results: list[dict[str, Any]] = []
    for confidence in confidences:
        forecasts = var_forecasts(
            r, first, confidence, window=params["hist_window"], lam=params["ewma_lambda"],
            nu=params["student_t_nu"], garch_refit_days=params["garch_refit_days"],
            garch_window=params["garch_fit_window"], methods=methods,
        )  # fmt: skip
        for method in methods:
            hits = -realized > forecasts[method]
            results.append(
                {"method": method, "confidence": confidence}
                | _coverage(hits, confidence)
                | {
                    f"exceptions_{stress_year}": int(
                        sum(
                            h for h, d in zip(hits, test_days, strict=True) if d.year == stress_year
                        )
                    ),
                    f"days_{stress_year}": sum(1 for d in test_days if d.year == stress_year),
                    "basel_zone_last_250": basel_zone(int(hits[-250:].sum()))
                    if abs(confidence - 0.99) < 1e-12
                    else None,
                }
            )
    return {
        "series": "^GSPC",
        "start": str(test_days[0]),
        "end": str(test_days[-1]),
        "observations": len(test_days),
        "results": results,
    }


def _coverage(hits: NDArray[np.bool_], confidence: float) -> dict[str, Any]:
    n = int(hits.size)
    x = int(hits.sum())
    pof_lr, pof_p = kupiec_pof(x, n, confidence)
    ind_lr, ind_p = christoffersen_independence(hits)
    from scipy.stats import chi2

    cc_lr = pof_lr + ind_lr
    return {
        "observations": n,
        "exceptions": x,
        "expected": n * (1.0 - confidence),
        "exception_rate": x / n,
        "kupiec_lr": pof_lr,
        "kupiec_p": pof_p,
        "christoffersen_lr": ind_lr,
        "christoffersen_p": ind_p,
        "conditional_coverage_lr": cc_lr,
        "conditional_coverage_p": float(chi2.sf(cc_lr, 2)),
    }
