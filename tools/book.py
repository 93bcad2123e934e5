"""Book-level risk for the overnight batch: hypothetical VaR backtest, sectors, holdings diff.

The backtest holds today's weights fixed and replays them over the last 250 trading days
(hypothetical P&L, as the Basel backtesting framework allows): each day's one-day historical VaR is
forecast from the ``window`` returns before that day, by the same ``risk_math.historical_var_es``
the risk tool uses, and an exception is a day whose loss exceeds its VaR.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np

from tools import backtest, inputs, risk_math
from tools.errors import InsufficientData

BACKTEST_DAYS = 250


def hypothetical_backtest(
    con: Any,
    weights: Mapping[str, float],
    as_of: date,
    *,
    window: int = 1000,
    days: int = BACKTEST_DAYS,
    confidences: Sequence[float] = (0.95, 0.99),
) -> dict[str, Any]:
    """Daily returns of fixed ``weights`` and each day's VaR forecast over the last ``days`` days.

    Returns:
        ``dates``, ``returns`` (simple, fractions of value), ``var`` {confidence: [...]},
        ``exceptions`` {confidence: count}, and ``basel_zone`` (99% exceptions, traffic light).

    Raises:
        InsufficientData: fewer than ``window + days`` common return days up to ``as_of``.
    """
    tickers = sorted(weights)
    start = as_of - timedelta(days=int((window + days) * 1.5) + 30)
    need = window + days
    series = {t: inputs.return_history(con, t, start, as_of, min_obs=need) for t in tickers}
    common = functools.reduce(np.intersect1d, [s.days for s in series.values()])[-need:]
    if len(common) < need:
        raise InsufficientData(
            f"only {len(common)} common return days up to {as_of}; the backtest needs {need}",
            hint="choose a later as-of date or a book of tickers with longer histories",
        )
    used = {t: series[t].on(common) for t in tickers}
    simple = np.column_stack([np.expm1(used[t].values) for t in tickers])
    w = np.array([weights[t] for t in tickers], dtype=np.float64)
    r = risk_math.portfolio_returns(simple, w)
    test = range(window, len(r))
    var = {
        c: [risk_math.historical_var_es(r[i - window : i], c)[0] for i in test] for c in confidences
    }
    realized = r[window:]
    exceptions = {c: int(np.sum(-realized > np.asarray(v))) for c, v in var.items()}
    zone = backtest.basel_zone(exceptions[0.99]) if 0.99 in exceptions else None
    return {
        "dates": [used[tickers[0]].dates[i].isoformat() for i in test],
        "returns": [float(x) for x in realized],
        "var": {str(c): v for c, v in var.items()},
        "exceptions": {str(c): n for c, n in exceptions.items()},
        "basel_zone": zone,
        "window": window,
        "method": "historical simulation, fixed current weights (hypothetical P&L)",
    }


def exposure_by_sector(
    exposure: Sequence[Mapping[str, Any]], sectors: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Sum the risk tool's per-ticker exposure rows by sector (component VaR is additive)."""
    out: dict[str, dict[str, float]] = {}
    for row in exposure:
        sector = sectors.get(row["ticker"], "Unclassified")
        agg = out.setdefault(sector, {"market_value_usd": 0.0, "weight": 0.0, "cvar": 0.0})
        agg["market_value_usd"] += float(row.get("market_value_usd", 0.0))
        agg["weight"] += float(row["weight"])
        agg["cvar"] += float(row.get("component_var_normal_usd", 0.0))
    return [
        {"sector": s, "market_value_usd": a["market_value_usd"], "weight": a["weight"],
         "component_var_normal_usd": a["cvar"]}
        for s, a in sorted(out.items(), key=lambda kv: -kv[1]["market_value_usd"])
    ]  # fmt: skip


def quantity_changes(
    before: Mapping[tuple[str, str], float], after: Mapping[tuple[str, str], float]
) -> list[dict[str, Any]]:
    """Positions whose quantity differs between two runs ((portfolio, ticker) -> quantity)."""
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            changes.append(
                {"portfolio": key[0], "ticker": key[1], "before": old, "after": new,
                 "change": (new or 0.0) - (old or 0.0)}
            )  # fmt: skip
    return changes
