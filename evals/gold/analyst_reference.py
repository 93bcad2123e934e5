"""Gold figures for the analyst generalization set, computed with plain SQL and numpy only.

Nothing here calls the product (no feature store reads, no tools, no planner): every figure is
re-derived from the raw tables ``prices``, ``macro``, ``fundamentals``, ``positions`` and
``loans``, with the convention written next to it (docs/eval.md repeats them). ``gold(con, spec)``
is the one entry point: a question's ``spec`` (``kind`` plus its parameters) in, the gold answer
out — ``{"answer": "number", "value", "alternatives", "tolerance", ...}``, ``{"answer":
"tickers", "tickers"}``, ``{"answer": "text", "phrases"}`` or ``{"answer": "decline"}``.

Conventions (price column: ``adj_close`` unless a question names another):
- return over a window = adj_close on the last trading day inside the window / adj_close on the
  first trading day inside it - 1 (also accepted: the base is the last close *before* the window,
  the usual calendar-period return);
- realized volatility over a window = sample std (ddof=1) of the daily log returns between
  consecutive closes inside the window x sqrt(252) (also accepted: the return into the first day);
- max drawdown over a window = min over its days of close / running max of closes since the
  window's first day - 1, on adj_close (compared by magnitude: "a 35% drawdown" is -0.35);
- average volume = mean of the daily share volume on the window's days;
- correlation = Pearson correlation of daily log returns on the dates both tickers trade;
- beta = OLS slope of the ticker's daily log returns on the S&P 500's (``^GSPC``) same-day ones;
- high/low = highest/lowest adj_close in the window (also accepted: raw close, and the intraday
  ``high``/``low`` columns where the data has them);
- rankings: every stock (indices excluded) with prices on the window's first and last trading
  days, minus the tickers the asking user may not see, by window return.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np

ANNUAL = math.sqrt(252)
MARKET = "^GSPC"
INDICES = ("^GSPC", "^IXIC")
Spec = dict[str, Any]
Gold = dict[str, Any]

# Tolerances per kind of figure (relative to the gold value, plus an absolute floor): a lookup is
# a stored value and must be exact at the printed precision; a computed statistic may differ by
# a documented convention choice within a few tenths of a percent.
LOOKUP = {"rel": 0.001, "abs": 0.0}
COMPUTED = {"rel": 0.02, "abs": 0.002}
STATISTIC = {"rel": 0.03, "abs": 0.02}  # correlation and beta


def _d(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _rows(con: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    return list(con.execute(sql, params).fetchall())


def number(
    value: float,
    tolerance: dict[str, float],
    *,
    alternatives: list[tuple[float, str]] | None = None,
    unit: str = "",
    magnitude: bool = False,
    **extra: Any,
) -> Gold:
    """A numeric gold answer with its tolerance and the other accepted conventions."""
    return {
        "answer": "number",
        "value": float(value),
        "alternatives": [{"value": float(v), "convention": why} for v, why in (alternatives or [])],
        "tolerance": tolerance,
        "unit": unit,
        "magnitude": magnitude,
        **extra,
    }


def decline(reason: str) -> Gold:
    """A question the data cannot answer (or may not answer): the right outcome is a decline."""
    return {"answer": "decline", "reason": reason}


# ---------------------------------------------------------------------------------------------
# prices


def coverage(con: Any, ticker: str) -> tuple[date, date] | None:
    """First and last price date of ``ticker`` (None when it has no prices)."""
    row = _rows(con, "SELECT min(date), max(date) FROM prices WHERE ticker = ?", [ticker])[0]
    return None if row[0] is None else (row[0], row[1])


def series(
    con: Any, ticker: str, start: date, end: date, column: str = "adj_close"
) -> tuple[list[date], np.ndarray]:
    """``column`` of ``ticker`` on every trading day with start <= date <= end, oldest first."""
    if column not in ("adj_close", "close", "high", "low", "volume", "open"):
        raise ValueError(column)
    rows = _rows(
        con,
        f"SELECT date, {column} FROM prices WHERE ticker = ? AND date BETWEEN ? AND ? "
        f"AND {column} IS NOT NULL ORDER BY date",
        [ticker, start, end],
    )
    return [r[0] for r in rows], np.array([r[1] for r in rows], dtype=np.float64)


def _covered(con: Any, ticker: str, start: date, end: date) -> bool:
    span = coverage(con, ticker)
    return span is not None and span[0] <= start and span[1] >= end


def _before(con: Any, ticker: str, day: date) -> float | None:
    rows = _rows(
        con,
        "SELECT adj_close FROM prices WHERE ticker = ? AND date < ? ORDER BY date DESC LIMIT 1",
        [ticker, day],
    )
    return float(rows[0][0]) if rows else None


def price_on(con: Any, spec: Spec) -> Gold:
    """Close on a trading day: adj_close, or raw close where the data has it (either accepted)."""
    rows = _rows(
        con,
        "SELECT adj_close, close FROM prices WHERE ticker = ? AND date = ?",
        [spec["ticker"], _d(spec["date"])],
    )
    if not rows:
        return decline("no price on that day")
    adj, close = rows[0]
    column = spec.get("column", "close")
    if column == "adj_close" or close is None:
        alts = [] if close is None or column == "adj_close" else [(close, "raw close")]
        return number(adj, LOOKUP, alternatives=alts, unit="USD")
    return number(close, LOOKUP, alternatives=[(adj, "adjusted close")], unit="USD")


def ohlcv_on(con: Any, spec: Spec) -> Gold:
    """One of high / low / open / volume on a trading day (stored value)."""
    column = spec["column"]
    rows = _rows(
        con,
        f"SELECT {column} FROM prices WHERE ticker = ? AND date = ? AND {column} IS NOT NULL",
        [spec["ticker"], _d(spec["date"])],
    )
    if not rows:
        return decline(f"no {column} on that day")
    return number(rows[0][0], LOOKUP, unit="shares" if column == "volume" else "USD")


def daily_return(con: Any, spec: Spec) -> Gold:
    """Simple return into a trading day from the previous bar (log return also accepted)."""
    day = _d(spec["date"])
    today = _rows(
        con, "SELECT adj_close FROM prices WHERE ticker = ? AND date = ?", [spec["ticker"], day]
    )
    prev = _before(con, spec["ticker"], day)
    if not today or prev is None:
        return decline("no return on that day")
    ratio = float(today[0][0]) / prev
    return number(
        ratio - 1, {"rel": 0.02, "abs": 0.0005}, alternatives=[(math.log(ratio), "log return")]
    )


def price_change(con: Any, spec: Spec) -> Gold:
    """USD change of adj_close between two trading days (end - start)."""
    a = price_on(con, {"ticker": spec["ticker"], "date": spec["start"], "column": "adj_close"})
    b = price_on(con, {"ticker": spec["ticker"], "date": spec["end"], "column": "adj_close"})
    if a["answer"] != "number" or b["answer"] != "number":
        return decline("no price on one of the days")
    return number(b["value"] - a["value"], {"rel": 0.005, "abs": 0.01}, unit="USD", magnitude=True)


def window_return(con: Any, spec: Spec) -> Gold:
    """Return over [start, end]: last close / first close inside the window - 1."""
    ticker, start, end = spec["ticker"], _d(spec["start"]), _d(spec["end"])
    if not _covered(con, ticker, start, end):
        return decline("window outside the data")
    days, px = series(con, ticker, start, end)
    base = _before(con, ticker, days[0])
    alts = [(px[-1] / base - 1, "base: last close before the window")] if base else []
    return number(px[-1] / px[0] - 1, COMPUTED, alternatives=alts, first=str(days[0]))


def window_drawdown(con: Any, spec: Spec) -> Gold:
    """Deepest close / running peak - 1 inside the window (negative; compared by magnitude)."""
    ticker, start, end = spec["ticker"], _d(spec["start"]), _d(spec["end"])
    if not _covered(con, ticker, start, end):
        return decline("window outside the data")
    _, px = series(con, ticker, start, end)
    depth = float((px / np.maximum.accumulate(px) - 1).min())
    return number(depth, COMPUTED, magnitude=True)


def window_vol(con: Any, spec: Spec) -> Gold:
    """Annualized sample std (ddof=1) of the window's daily log returns."""
    ticker, start, end = spec["ticker"], _d(spec["start"]), _d(spec["end"])
    if not _covered(con, ticker, start, end):
        return decline("window outside the data")
    days, px = series(con, ticker, start, end)
    r = np.diff(np.log(px))
    base = _before(con, ticker, days[0])
    alts = []
    if base:
        with_first = np.diff(np.log(np.concatenate([[base], px])))
        alts.append((float(np.std(with_first, ddof=1) * ANNUAL), "return into day 1 included"))
    return number(float(np.std(r, ddof=1) * ANNUAL), COMPUTED, alternatives=alts)


def window_volume(con: Any, spec: Spec) -> Gold:
    """Mean daily share volume over the window's trading days."""
    ticker, start, end = spec["ticker"], _d(spec["start"]), _d(spec["end"])
    days, vol = series(con, ticker, start, end, "volume")
    if not days or days[0] > start + _days(7) or days[-1] < end - _days(7):
        return decline("no volume for that window")
    return number(float(vol.mean()), {"rel": 0.005, "abs": 0.0}, unit="shares")


def _days(n: int) -> Any:
    from datetime import timedelta

    return timedelta(days=n)


def _log_returns(con: Any, ticker: str, start: date, end: date) -> dict[date, float]:
    days, px = series(con, ticker, start, end)
    return dict(zip(days[1:], np.diff(np.log(px)), strict=True))


def _paired(con: Any, a: str, b: str, start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
    ra, rb = _log_returns(con, a, start, end), _log_returns(con, b, start, end)
    common = sorted(set(ra) & set(rb))
    return np.array([ra[d] for d in common]), np.array([rb[d] for d in common])


def window_correlation(con: Any, spec: Spec) -> Gold:
    """Pearson correlation of the two tickers' daily log returns on common dates."""
    a, b, start, end = spec["ticker"], spec["other"], _d(spec["start"]), _d(spec["end"])
    if not (_covered(con, a, start, end) and _covered(con, b, start, end)):
        return decline("window outside the data")
    x, y = _paired(con, a, b, start, end)
    return number(float(np.corrcoef(x, y)[0, 1]), STATISTIC)


def window_beta(con: Any, spec: Spec) -> Gold:
    """OLS slope of the ticker's daily log returns on ^GSPC's, common dates in the window."""
    ticker, start, end = spec["ticker"], _d(spec["start"]), _d(spec["end"])
    if not (_covered(con, ticker, start, end) and _covered(con, MARKET, start, end)):
        return decline("window outside the data")
    y, x = _paired(con, ticker, MARKET, start, end)
    xc = x - x.mean()
    return number(float(np.dot(y - y.mean(), xc) / np.dot(xc, xc)), STATISTIC)


def window_extreme(con: Any, spec: Spec) -> Gold:
    """Highest (``which=high``) or lowest adj_close in the window; raw and intraday accepted."""
    ticker, start, end = spec["ticker"], _d(spec["start"]), _d(spec["end"])
    if not _covered(con, ticker, start, end):
        return decline("window outside the data")
    pick = np.max if spec["which"] == "high" else np.min
    _, px = series(con, ticker, start, end)
    alts = []
    for column, why in (("close", "raw close"), (spec["which"], f"intraday {spec['which']}")):
        days, other = series(con, ticker, start, end, column)
        if len(days):
            alts.append((float(pick(other)), why))
    return number(float(pick(px)), LOOKUP, alternatives=alts, unit="USD")


def stock_universe(con: Any, barred: tuple[str, ...] = ()) -> list[str]:
    """Every ticker with prices that is not an index, minus ``barred``."""
    rows = _rows(con, "SELECT DISTINCT ticker FROM prices ORDER BY ticker", [])
    return [r[0] for r in rows if r[0] not in INDICES and r[0] not in barred]


def ranking(con: Any, spec: Spec) -> Gold:
    """The ``n`` best (``order=best``) or worst stocks by window return, as tickers."""
    start, end = _d(spec["start"]), _d(spec["end"])
    scored = []
    for ticker in stock_universe(con, tuple(spec.get("barred", ()))):
        if _covered(con, ticker, start, end):
            _, px = series(con, ticker, start, end)
            scored.append((float(px[-1] / px[0] - 1), ticker))
    scored.sort(reverse=spec["order"] == "best")
    n = int(spec["n"])
    return {
        "answer": "tickers",
        "tickers": [t for _, t in scored[:n]],
        "values": [v for v, _ in scored[:n]],
        "universe": len(scored),
    }


# ---------------------------------------------------------------------------------------------
# rolling features at an as-of date, re-derived from docs/features.md's definitions


def _history(con: Any, ticker: str, end: date) -> tuple[list[date], np.ndarray]:
    return series(con, ticker, date(1900, 1, 1), end)


def feature_at(con: Any, spec: Spec) -> Gold:
    """A rolling feature on a trading day, from the raw prices (not the feature tables)."""
    ticker, day, name = spec["ticker"], _d(spec["date"]), spec["feature"]
    days, px = _history(con, ticker, day)
    if not days or days[-1] != day:
        return decline("no price on that day")
    r = np.diff(np.log(px))
    if name in ("realized_vol_20d", "realized_vol_60d"):
        n = 20 if name.endswith("20d") else 60
        return number(float(np.std(r[-n:], ddof=1) * ANNUAL), COMPUTED)
    if name == "ewma_vol":
        var = r[0] ** 2
        for x in r[1:]:
            var = 0.94 * var + 0.06 * x * x
        return number(math.sqrt(var * 252), COMPUTED)
    if name == "max_drawdown_252d":
        window = px[-503:]
        peaks = np.array([window[max(0, i - 251) : i + 1].max() for i in range(len(window))])
        return number(float((window / peaks - 1)[-252:].min()), COMPUTED, magnitude=True)
    if name == "beta_252d":
        mdays, mpx = _history(con, MARKET, day)
        market = dict(zip(mdays[1:], np.diff(np.log(mpx)), strict=True))
        pairs = [(y, market[d]) for d, y in zip(days[-252:], r[-252:], strict=True) if d in market]
        y, x = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        xc = x - x.mean()
        return number(float(np.dot(y - y.mean(), xc) / np.dot(xc, xc)), STATISTIC)
    if name in ("adv_usd_20d", "amihud_illiquidity_20d"):
        rows = _rows(
            con,
            "SELECT date, close * volume FROM prices WHERE ticker = ? AND date <= ? "
            "AND close IS NOT NULL AND volume > 0 ORDER BY date DESC LIMIT 20",
            [ticker, day],
        )
        if len(rows) < 20 or rows[0][0] != day:
            return decline("no volume for that day")
        dollars = np.array([float(v) for _, v in rows][::-1])
        if name == "adv_usd_20d":
            return number(float(dollars.mean()), {"rel": 0.005, "abs": 0.0}, unit="USD")
        by_day = dict(zip(days[1:], np.abs(r), strict=True))
        ratio = [
            by_day[d] / v * 1e6 for (d, v) in zip([x[0] for x in rows][::-1], dollars, strict=True)
        ]
        return number(float(np.mean(ratio)), {"rel": 0.02, "abs": 0.0})
    raise ValueError(f"unknown feature {name}")


# ---------------------------------------------------------------------------------------------
# macro


def _macro(con: Any, name: str, start: date, end: date) -> list[tuple[date, float]]:
    return [
        (r[0], float(r[1]))
        for r in _rows(
            con,
            "SELECT date, value FROM macro WHERE series = ? AND date BETWEEN ? AND ? ORDER BY date",
            [name, start, end],
        )
    ]


def period_bounds(period: str) -> tuple[date, date]:
    """``2005`` / ``2005-Q3`` / ``2005-07`` / ``2005-07-14`` as (first day, last day)."""
    import calendar

    if len(period) == 4:
        return date(int(period), 1, 1), date(int(period), 12, 31)
    if "Q" in period:
        year, q = int(period[:4]), int(period[-1])
        last = 3 * q
        return date(year, last - 2, 1), date(year, last, calendar.monthrange(year, last)[1])
    if len(period) == 7:
        year, month = int(period[:4]), int(period[5:])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    day = date.fromisoformat(period)
    return day, day


def macro_at(con: Any, spec: Spec) -> Gold:
    """The series' observation inside the period (``how=last``: the last one; ``mean``: mean)."""
    start, end = period_bounds(spec["period"])
    obs = _macro(con, spec["series"], start, end)
    if not obs:
        return decline("no observation in that period")
    values = [v for _, v in obs]
    if spec.get("how", "last") == "mean":
        return number(float(np.mean(values)), {"rel": 0.002, "abs": 0.005})
    if len(obs) > 1 and spec.get("how") != "last":
        raise ValueError(f"{spec} matches {len(obs)} observations")
    return number(values[-1], LOOKUP, observed=str(obs[-1][0]))


def macro_spread(con: Any, spec: Spec) -> Gold:
    """``series`` minus ``other`` in the same period (both observed there)."""
    a = macro_at(con, {"series": spec["series"], "period": spec["period"], "how": "last"})
    b = macro_at(con, {"series": spec["other"], "period": spec["period"], "how": "last"})
    if a["answer"] != "number" or b["answer"] != "number":
        return decline("one series is not observed in that period")
    alts = []
    if "Q" in spec["period"]:
        # A monthly series at a quarter: the quarter's average is as good a reading as its end.
        am = macro_at(con, {"series": spec["series"], "period": spec["period"], "how": "mean"})
        bm = macro_at(con, {"series": spec["other"], "period": spec["period"], "how": "mean"})
        alts.append((am["value"] - bm["value"], "quarter averages"))
    tolerance = {"rel": 0.001, "abs": 0.0051}
    return number(a["value"] - b["value"], tolerance, alternatives=alts, magnitude=True)


def macro_change(con: Any, spec: Spec) -> Gold:
    """From period ``start`` to ``end``: ``diff`` (end - start) or ``growth`` (end / start - 1)."""
    a = macro_at(con, {"series": spec["series"], "period": spec["start"], "how": "last"})
    b = macro_at(con, {"series": spec["series"], "period": spec["end"], "how": "last"})
    if a["answer"] != "number" or b["answer"] != "number":
        return decline("not observed in one of the periods")
    if spec["mode"] == "diff":
        return number(b["value"] - a["value"], {"rel": 0.001, "abs": 0.0051}, magnitude=True)
    growth = b["value"] / a["value"] - 1
    return number(growth, {"rel": 0.01, "abs": 0.0005}, magnitude=True)


# ---------------------------------------------------------------------------------------------
# fundamentals, models, loans


def fundamental_value(con: Any, ticker: str, item: str, fiscal_year: int) -> float | None:
    """One reported line item for a fiscal year (the latest period_end when several rows)."""
    rows = _rows(
        con,
        "SELECT value FROM fundamentals WHERE ticker = ? AND item = ? AND fiscal_year = ? "
        "ORDER BY period_end DESC LIMIT 1",
        [ticker, item, fiscal_year],
    )
    return float(rows[0][0]) if rows else None


RATIOS = {
    "current_ratio": ("current_assets", "current_liabilities"),
    "debt_to_assets": ("total_liabilities", "total_assets"),
    "liabilities_to_equity": ("total_liabilities", "total_equity"),
    "net_margin": ("net_income", "revenue"),
    "operating_margin": ("operating_income", "revenue"),
    "return_on_equity": ("net_income", "total_equity"),
    "return_on_assets": ("net_income", "total_assets"),
    "cash_to_assets": ("cash_and_equivalents", "total_assets"),
}


def fundamental(con: Any, spec: Spec) -> Gold:
    """A reported item (USD millions; shares in millions) for a fiscal year."""
    value = fundamental_value(con, spec["ticker"], spec["item"], int(spec["fiscal_year"]))
    if value is None:
        return decline("not reported for that year")
    return number(value, LOOKUP, unit="USD millions")


def ratio(con: Any, spec: Spec) -> Gold:
    """A ratio of two reported items of the same fiscal year (``RATIOS``), or working capital."""
    fy = int(spec["fiscal_year"])
    if spec["ratio"] == "working_capital":
        a = fundamental_value(con, spec["ticker"], "current_assets", fy)
        b = fundamental_value(con, spec["ticker"], "current_liabilities", fy)
        if a is None or b is None:
            return decline("not reported for that year")
        return number(a - b, LOOKUP, unit="USD millions")
    top, bottom = RATIOS[spec["ratio"]]
    a = fundamental_value(con, spec["ticker"], top, fy)
    b = fundamental_value(con, spec["ticker"], bottom, fy)
    if a is None or b is None:
        return decline("not reported for that year")
    return number(a / b, {"rel": 0.005, "abs": 0.0005})


def growth(con: Any, spec: Spec) -> Gold:
    """Year-on-year growth of a reported item: FY / FY-1 - 1."""
    fy = int(spec["fiscal_year"])
    a = fundamental_value(con, spec["ticker"], spec["item"], fy - 1)
    b = fundamental_value(con, spec["ticker"], spec["item"], fy)
    if a is None or b is None:
        return decline("not reported for both years")
    return number(b / a - 1, {"rel": 0.005, "abs": 0.0005}, magnitude=True)


def historical_var(con: Any, spec: Spec) -> Gold:
    """Historical VaR/ES of simple returns over the last 1,000 common dates, sqrt(H) scaled.

    Common dates are those with a price for the ticker(s) and ^GSPC (docs/models.md); VaR is the
    linear-interpolated (1 - confidence) quantile's loss; ES the mean loss at or beyond it. The
    normal VaR (zero mean, sample std) is accepted for a question that does not say "historical".
    """
    from evals.gold.reference import historical_var_es

    out = historical_var_es(
        con,
        ticker=spec.get("ticker"),
        portfolio=spec.get("portfolio"),
        confidence=float(spec["confidence"]),
        horizon=int(spec["horizon"]),
    )
    key = spec.get("measure", "var")
    alts = []
    if not spec.get("historical_only"):
        from scipy.stats import norm

        z = norm.ppf(float(spec["confidence"]))
        daily = out["vol_sample"] / ANNUAL
        if key == "var":
            alts.append((z * daily * math.sqrt(int(spec["horizon"])), "normal VaR"))
        else:
            es = daily * norm.pdf(z) / (1 - float(spec["confidence"]))
            alts.append((es * math.sqrt(int(spec["horizon"])), "normal ES"))
    return number(out[key], COMPUTED, alternatives=alts, magnitude=True)


def merton(con: Any, spec: Spec) -> Gold:
    """Merton distance to default / PD at the latest price (scipy solver, not the product's)."""
    from evals.gold.reference import merton_pd

    try:
        out = merton_pd(con, spec["ticker"])
    except IndexError:  # no filing on or before the latest price: point-in-time, no PD
        return decline("no filing before the latest price")
    key = spec["measure"]
    return number(out[key], COMPUTED if key == "dd" else {"rel": 0.05, "abs": 0.0})


def loans_stat(con: Any, spec: Spec) -> Gold:
    """Counts and rates over the ``loans`` table (plain SQL)."""
    what, purpose = spec["stat"], spec.get("purpose")
    where = "WHERE purpose = ?" if purpose else ""
    params = [purpose] if purpose else []
    sql = {
        "default_rate": f"SELECT avg(defaulted) FROM loans {where}",
        "count": f"SELECT count(*) FROM loans {where}",
        "mean_amount": f"SELECT avg(credit_amount) FROM loans {where}",
        "mean_duration": f"SELECT avg(duration_months) FROM loans {where}",
    }[what]
    value = float(_rows(con, sql, params)[0][0])
    tol = LOOKUP if what == "count" else {"rel": 0.002, "abs": 0.0005}
    return number(value, tol)


def text_fact(con: Any, spec: Spec) -> Gold:
    """A fact stated in a demo document: a figure (``value``) and/or phrases that must appear."""
    gold: Gold = {"answer": "text", "phrases": spec.get("phrases", []), "doc": spec.get("doc")}
    if "value" in spec:
        alts = [(float(a), "same figure in other units") for a in spec.get("alt", [])]
        gold = {
            **number(float(spec["value"]), LOOKUP, alternatives=alts, unit=spec.get("unit", "")),
            "phrases": spec.get("phrases", []),
            "doc": spec.get("doc"),
        }
    return gold


REFERENCE = {
    "price_on": price_on,
    "ohlcv_on": ohlcv_on,
    "daily_return": daily_return,
    "price_change": price_change,
    "window_return": window_return,
    "window_drawdown": window_drawdown,
    "window_vol": window_vol,
    "window_volume": window_volume,
    "window_correlation": window_correlation,
    "window_beta": window_beta,
    "window_extreme": window_extreme,
    "ranking": ranking,
    "feature_at": feature_at,
    "macro_at": macro_at,
    "macro_spread": macro_spread,
    "macro_change": macro_change,
    "fundamental": fundamental,
    "ratio": ratio,
    "growth": growth,
    "historical_var": historical_var,
    "merton": merton,
    "loans_stat": loans_stat,
    "text_fact": text_fact,
}


def gold(con: Any, spec: Spec) -> Gold:
    """The gold answer of one question spec; ``kind: decline`` items carry their reason."""
    if spec["kind"] == "decline":
        return decline(spec["reason"])
    return REFERENCE[spec["kind"]](con, spec)
