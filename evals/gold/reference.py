"""Reference figures for the gold set, computed independently of the product's tools.

Plain SQL over the raw tables (prices, fundamentals, macro, positions) and numpy/scipy — never the
feature store, the risk or PD tools. Each function re-derives a figure from its published
definition (docs/features.md, docs/models.md), so a bug in a tool shows up as a gold-set miss.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np

ANNUAL = math.sqrt(252)
MARKET = "^GSPC"


def closes(con: Any, ticker: str, end: date | None = None) -> tuple[list[date], np.ndarray]:
    """Adjusted closes of ``ticker`` up to ``end``, oldest first."""
    rows = con.execute(
        "SELECT date, adj_close FROM prices WHERE ticker = ? AND (? IS NULL OR date <= ?) "
        "ORDER BY date",
        [ticker, end, end],
    ).fetchall()
    return [r[0] for r in rows], np.array([r[1] for r in rows], dtype=np.float64)


def log_returns(con: Any, ticker: str, end: date | None = None) -> tuple[list[date], np.ndarray]:
    """Daily log returns on each bar after the first (previous bar, however far back)."""
    days, px = closes(con, ticker, end)
    return days[1:], np.diff(np.log(px))


def realized_vol(con: Any, ticker: str, window: int, end: date | None = None) -> tuple[date, float]:
    """Sample std (n-1) of the last ``window`` log returns times sqrt(252), and its date."""
    days, r = log_returns(con, ticker, end)
    return days[-1], float(np.std(r[-window:], ddof=1) * ANNUAL)


def beta_252(con: Any, ticker: str, end: date | None = None) -> tuple[date, float]:
    """OLS slope of the last 252 bars' log returns on the S&P 500's same-date log returns."""
    days, r = log_returns(con, ticker, end)
    mdays, m = log_returns(con, MARKET, end)
    market = dict(zip(mdays, m, strict=True))
    pairs = [(x, market[d]) for d, x in zip(days[-252:], r[-252:], strict=True) if d in market]
    y = np.array([p[0] for p in pairs])
    x = np.array([p[1] for p in pairs])
    xc = x - x.mean()
    return days[-1], float(np.dot(y - y.mean(), xc) / np.dot(xc, xc))


def max_drawdown_252(con: Any, ticker: str, end: date | None = None) -> tuple[date, float]:
    """Deepest fall below the trailing 252-bar high over the last 252 bars (negative)."""
    days, px = closes(con, ticker, end)
    px = px[-503:]
    highs = np.array([px[max(0, i - 251) : i + 1].max() for i in range(len(px))])
    drawdowns = px / highs - 1.0
    return days[-1], float(drawdowns[-252:].min())


def leverage(con: Any, ticker: str, at: date) -> tuple[str, float]:
    """Total liabilities / total assets of the latest period filed on or before ``at``."""
    row = con.execute(
        "SELECT a.filing_date, l.value / a.value FROM fundamentals a JOIN fundamentals l "
        "ON l.ticker = a.ticker AND l.period_end = a.period_end AND l.item = 'total_liabilities' "
        "WHERE a.ticker = ? AND a.item = 'total_assets' AND a.filing_date <= ? "
        "ORDER BY a.period_end DESC LIMIT 1",
        [ticker, at],
    ).fetchall()[0]
    return str(row[0]), float(row[1])


def fundamental(con: Any, ticker: str, item: str, fiscal_year: int | None) -> dict[str, Any]:
    """One reported line item (the latest fiscal year when none is given)."""
    row = con.execute(
        "SELECT fiscal_year, period_end, value, source_doc, source_page FROM fundamentals "
        "WHERE ticker = ? AND item = ? AND (? IS NULL OR fiscal_year = ?) "
        "ORDER BY fiscal_year DESC LIMIT 1",
        [ticker, item, fiscal_year, fiscal_year],
    ).fetchall()[0]
    return dict(zip(["fiscal_year", "period_end", "value", "source_doc", "page"], row, strict=True))


def macro_value(con: Any, series: str, at: date | None) -> tuple[str, float]:
    """The latest observation of ``series`` on or before ``at``."""
    row = con.execute(
        "SELECT date, value FROM macro WHERE series = ? AND (? IS NULL OR date <= ?) "
        "ORDER BY date DESC LIMIT 1",
        [series, at, at],
    ).fetchall()[0]
    return str(row[0]), float(row[1])


def _aligned_returns(
    con: Any, tickers: list[str], end: date | None, lookback: int = 1000
) -> tuple[list[date], dict[str, np.ndarray]]:
    series = {t: dict(zip(*log_returns(con, t, end), strict=True)) for t in [*tickers, MARKET]}
    # The common as-of: the last date with a price for every ticker; a 1.5x calendar window.
    last = min(max(s) for s in series.values())
    common = sorted(set.intersection(*(set(d for d in s if d <= last) for s in series.values())))
    days = common[-lookback:]
    return days, {t: np.array([series[t][d] for d in days]) for t in series}


def portfolio_weights(con: Any, portfolio: str, end: date | None) -> dict[str, float]:
    """Market value of each holding / total (latest holdings and prices on or before ``end``)."""
    rows = con.execute(
        "SELECT p.ticker, p.quantity * (SELECT adj_close FROM prices x WHERE x.ticker = p.ticker "
        "AND (? IS NULL OR x.date <= ?) ORDER BY x.date DESC LIMIT 1) FROM positions p "
        "WHERE p.portfolio = ? "
        "AND p.as_of = (SELECT max(as_of) FROM positions WHERE portfolio = ?)",
        [end, end, portfolio, portfolio],
    ).fetchall()
    total = sum(v for _, v in rows)
    return {t: v / total for t, v in sorted(rows)} | {"__total__": total}


def historical_var_es(
    con: Any,
    *,
    ticker: str | None = None,
    portfolio: str | None = None,
    confidence: float = 0.99,
    horizon: int = 1,
    end: date | None = None,
) -> dict[str, float]:
    """Historical VaR/ES (positive losses) of simple returns, scaled by sqrt(horizon)."""
    if ticker:
        weights = {ticker: 1.0}
        total = None
    else:
        weights = portfolio_weights(con, portfolio or "DEMO", end)
        total = weights.pop("__total__")
    days, logs = _aligned_returns(con, list(weights), end)
    simple = sum(w * np.expm1(logs[t]) for t, w in weights.items())
    q = float(np.quantile(simple, 1 - confidence))
    es = -float(simple[simple <= q].mean())
    root = math.sqrt(horizon)
    out = {"var": -q * root, "es": es * root, "days": len(days)}
    sample = float(np.std(simple, ddof=1))
    out["vol_sample"] = sample * ANNUAL
    if total is not None:
        out["var_usd"] = out["var"] * total
        out["market_value"] = total
    return out


def ewma_vol(con: Any, ticker: str, lam: float, end: date | None = None, seed: int = 30) -> float:
    """RiskMetrics EWMA volatility forecast (annualized) of simple returns, seeded with 30 days."""
    _, logs = _aligned_returns(con, [ticker], end)
    r = np.expm1(logs[ticker])
    var = float(np.mean(r[:seed] ** 2))
    for x in r[seed:]:
        var = lam * var + (1 - lam) * x * x
    return math.sqrt(var) * ANNUAL


def merton_pd(con: Any, ticker: str, rate: float = 0.02, horizon: float = 1.0) -> dict[str, float]:
    """Merton PD from price x shares, 60-day realized vol and total liabilities (scipy solver)."""
    from scipy.optimize import fsolve
    from scipy.stats import norm

    at, price = con.execute(
        "SELECT date, adj_close FROM prices WHERE ticker = ? ORDER BY date DESC LIMIT 1", [ticker]
    ).fetchall()[0]

    def filed(item: str) -> float:
        return float(
            con.execute(
                "SELECT value FROM fundamentals WHERE ticker = ? AND item = ? AND filing_date <= ? "
                "ORDER BY period_end DESC, filing_date DESC LIMIT 1",
                [ticker, item, at],
            ).fetchall()[0][0]
        )

    equity = price * filed("shares_outstanding")
    debt = filed("total_liabilities")
    _, sigma_e = realized_vol(con, ticker, 60, at)

    scale = equity + debt  # solve in units of (equity + debt) so both unknowns are O(1)
    e, d = equity / scale, debt / scale

    def equations(x: np.ndarray) -> list[float]:
        v, s = x
        d1 = (math.log(v / d) + (rate + s * s / 2) * horizon) / (s * math.sqrt(horizon))
        d2 = d1 - s * math.sqrt(horizon)
        call = v * norm.cdf(d1) - d * math.exp(-rate * horizon) * norm.cdf(d2)
        return [call - e, norm.cdf(d1) * s * v - sigma_e * e]

    v, s = fsolve(equations, [1.0, sigma_e * e], xtol=1e-14)
    dd = (math.log(v / d) + (rate - s * s / 2) * horizon) / (s * math.sqrt(horizon))
    return {"pd": float(norm.cdf(-dd)), "dd": dd, "equity": equity, "debt": debt, "vol": sigma_e}
