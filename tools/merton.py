"""Merton (1974) distance to default: the firm's equity as a call option on its assets.

Given equity value E, equity volatility sigma_E, the default point D (liabilities), the risk-free
rate r and horizon T, solve the two Merton equations for the asset value V and asset volatility
sigma_V:

    E = V N(d1) - D exp(-rT) N(d2)          sigma_E E = N(d1) sigma_V V
    d1 = (ln(V/D) + (r + sigma_V^2/2) T) / (sigma_V sqrt(T)),  d2 = d1 - sigma_V sqrt(T)

then DD = (ln(V/D) + (r - sigma_V^2/2) T) / (sigma_V sqrt(T)) and PD = N(-DD).
The system is solved by Newton's method in units of E + D from a fixed start, so the result is
deterministic.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from tools.errors import InsufficientData


@dataclass(frozen=True)
class MertonResult:
    """Solved asset value and volatility, distance to default and PD."""

    asset_value: float
    asset_volatility: float
    distance_to_default: float
    probability_of_default: float
    iterations: int
    converged: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _ncdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _npdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def solve_merton(
    equity: float,
    equity_vol: float,
    debt: float,
    rate: float,
    horizon_years: float = 1.0,
    *,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> MertonResult:
    """Solve the Merton system for (V, sigma_V); return DD and PD = N(-DD)."""
    if equity <= 0 or debt <= 0 or equity_vol <= 0:
        raise InsufficientData(
            f"Merton needs positive equity, liabilities and volatility (got E={equity}, "
            f"D={debt}, sigma_E={equity_vol})"
        )
    scale = equity + debt
    e, d, t = equity / scale, debt / scale, horizon_years
    disc = d * math.exp(-rate * t)
    v, s = e + disc, equity_vol * e / (e + disc)  # start: assets = equity + PV(debt)
    converged = False
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        sq = math.sqrt(t)
        d1 = (math.log(v / d) + (rate + 0.5 * s * s) * t) / (s * sq)
        d2 = d1 - s * sq
        n1, n2, p1 = _ncdf(d1), _ncdf(d2), _npdf(d1)
        f1 = v * n1 - disc * n2 - e
        f2 = n1 * s * v - equity_vol * e
        # Jacobian of (f1, f2) with respect to (v, s).
        dd1_dv = 1.0 / (v * s * sq)
        dd1_ds = sq - d1 / s
        j11 = n1
        j12 = v * p1 * sq  # vega
        j21 = s * (n1 + v * p1 * dd1_dv)
        j22 = v * (n1 + s * p1 * dd1_ds)
        det = j11 * j22 - j12 * j21
        if det == 0 or not math.isfinite(det):
            break
        dv = (f1 * j22 - f2 * j12) / det
        ds = (j11 * f2 - j21 * f1) / det
        v_new, s_new = v - dv, s - ds
        # Keep the iterate in the valid region (V > 0, sigma > 0) by halving a step that leaves it.
        while v_new <= 0 or s_new <= 0:
            dv, ds = dv / 2, ds / 2
            v_new, s_new = v - dv, s - ds
        v, s = v_new, s_new
        if abs(dv) < tol and abs(ds) < tol:
            converged = True
            break
    dd = (math.log(v / d) + (rate - 0.5 * s * s) * t) / (s * math.sqrt(t))
    return MertonResult(
        asset_value=v * scale,
        asset_volatility=s,
        distance_to_default=dd,
        probability_of_default=_ncdf(-dd),
        iterations=iterations,
        converged=converged,
    )
