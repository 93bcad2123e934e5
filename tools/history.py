"""Window and period computations over the stored history, at question time.

Any window the data covers, not only the stored rolling features: return, max drawdown
(peak-to-trough), realized volatility, volume, correlation, beta, high/low over prices; macro
values at a day, month, quarter or year with spreads, ratios, changes and growth; ratios and
differences of fundamentals. A date or period outside the data raises ``OutsideData`` with the range
the data covers — never the last value as if it were that day's. Every input of a derived number
comes back in ``inputs`` (entity, feature, version, as_of, value) so the trail holds it.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any, Literal

import duckdb
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ingestion.schemas import TICKER_PATTERN
from tools.errors import InsufficientData, ToolInputError

TRADING_DAYS = 252
MARKET = "^GSPC"
# How far a window's end may pass the last stored day (a year asked "in 2022" when the data ends
# on 2022-12-28): beyond this the window is outside the data and is declined.
SLACK = timedelta(days=7)
PRICE_METRICS = ("price", "return", "max_drawdown", "volatility", "volume", "dollar_volume",
                 "correlation", "beta", "high", "low")  # fmt: skip


class OutsideData(ToolInputError):
    """A date or period the stored data does not cover; the message gives the covered range."""


class StrictArgs(BaseModel):
    """Tool arguments: unknown fields refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceWindowArgs(StrictArgs):
    """A quantity computed from daily prices over a window (or on one day)."""

    metric: Literal[
        "price", "return", "max_drawdown", "volatility", "volume", "dollar_volume",
        "correlation", "beta", "high", "low", "worst_day", "best_day", "price_change",
        "day_volume", "day_high", "day_low", "day_open", "day_return",
    ] = Field(description="what to compute; worst_day/best_day: the largest one-day fall/rise "
                          "(simple return) in the window, or the whole history; day_*: the "
                          "stored bar of the trading day `end` (volume, intraday high/low, open, "
                          "simple return from the previous close)")  # fmt: skip
    tickers: list[str] = Field(min_length=1, max_length=30, description="e.g. ['AAPL', 'MSFT']")
    start: date | None = Field(None, description="first day of the window (YYYY-MM-DD)")
    end: date | None = Field(None, description="last day of the window, or the day asked about")
    lookback_days: int | None = Field(
        None, ge=2, le=5000, description="instead of start: N trading days ending at end"
    )
    aggregation: Literal["mean", "sum", "max", "min", "last"] | None = Field(
        None, description="volume/dollar_volume over the window: mean (default) or sum"
    )
    benchmark: str = Field(MARKET, description="beta is measured against this ticker")
    order: Literal["highest", "lowest"] | None = Field(None, description="rank the tickers")
    limit: int | None = Field(None, ge=1, le=30, description="keep the first N after ranking")

    @field_validator("tickers")
    @classmethod
    def _tickers(cls, value: list[str]) -> list[str]:
        import re

        bad = [t for t in value if not re.fullmatch(TICKER_PATTERN, t)]
        if bad:
            raise ValueError(f"{', '.join(bad[:5])} is not a ticker such as AAPL")
        return value

    @model_validator(mode="after")
    def _shape(self) -> PriceWindowArgs:
        if self.metric == "correlation" and len(self.tickers) != 2:
            raise ValueError("correlation needs exactly two tickers")
        if self.start and self.end and self.start > self.end:
            raise ValueError("start is after end")
        if self.metric in DAY_METRICS:
            if self.end is None or self.start is not None or self.lookback_days is not None:
                raise ValueError(f"{self.metric} is one trading day's value: give end only")
            return self
        whole_history_ok = ("price", "worst_day", "best_day", "high", "low")
        if self.metric not in whole_history_ok and self.start is None and not self.lookback_days:
            raise ValueError(f"{self.metric} needs a window: give start and end, or lookback_days")
        return self


class FundamentalsArgs(StrictArgs):
    """Items of one issuer's fundamentals per fiscal year, with a ratio or difference of two."""

    ticker: str = Field(pattern=TICKER_PATTERN)
    items: list[str] = Field(min_length=1, max_length=6, description="e.g. ['current_assets']")
    fiscal_years: list[int] | None = Field(None, max_length=20, description="all when empty")
    arithmetic: Literal["ratio", "minus", "growth"] | None = Field(
        None,
        description="ratio/minus: items[0] vs items[1] per year; growth: items[0] year on year",
    )


# -- prices ---------------------------------------------------------------------------------------
def _coverage(con: duckdb.DuckDBPyConnection, ticker: str) -> tuple[date, date]:
    row = con.execute(
        "SELECT min(date), max(date) FROM prices WHERE ticker = ?", [ticker]
    ).fetchone()
    if row is None or row[0] is None:
        raise InsufficientData(
            f"no prices are stored for {ticker}",
            hint="ask about a loaded ticker (describe_data tickers)",
        )
    return row[0], row[1]


def check_inside(what: str, first: date, last: date, start: date | None, end: date | None) -> None:
    """Raise ``OutsideData`` (with the covered range) when the day or period is not covered."""
    if end is not None and end > last + SLACK or start is not None and start < first - SLACK:
        raise OutsideData(
            f"{what} covers {first} to {last}; the date or period asked about "
            f"({start or ''}{' to ' if start else ''}{end or ''}) lies outside it",
            hint=f"ask about dates from {first} to {last}",
        )
    if end is not None and end < first or start is not None and start > last:
        raise OutsideData(
            f"{what} covers {first} to {last} only", hint=f"ask about dates from {first} to {last}"
        )


def _series(
    con: duckdb.DuckDBPyConnection,
    ticker: str,
    start: date | None,
    end: date,
    lookback: int | None,
    *,
    returns: bool = True,
) -> list[tuple[date, float, float, float]]:
    if lookback is not None:
        # N trading days of returns need N + 1 closes; a level (volume, price) needs N days.
        rows = con.execute(
            "SELECT date, adj_close, close, volume FROM prices WHERE ticker = ? AND date <= ? "
            "ORDER BY date DESC LIMIT ?",
            [ticker, end, lookback + (1 if returns else 0)],
        ).fetchall()
        return [tuple(r) for r in reversed(rows)]  # type: ignore[misc]
    rows = con.execute(
        "SELECT date, adj_close, close, volume FROM prices WHERE ticker = ? AND date BETWEEN ? "
        "AND ? ORDER BY date",
        [ticker, start or date(1, 1, 1), end],
    ).fetchall()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def input_value(entity: str, feature: str, day: Any, value: Any, source: str = "prices") -> dict:
    """One input of a derived number, in the trail's feature-value shape."""
    return {
        "entity": entity,
        "feature": feature,
        "version": source,
        "as_of": str(day),
        "value": None if value is None else float(value),
    }


def price_window(con: duckdb.DuckDBPyConnection, args: PriceWindowArgs) -> dict[str, Any]:
    """Compute ``args.metric`` for each ticker over the window; inputs listed for the trail."""
    results: list[dict[str, Any]] = []
    inputs: list[dict[str, Any]] = []
    covered: dict[str, list[str]] = {}
    skipped: list[str] = []
    for ticker in list(args.tickers):
        first, last = _coverage(con, ticker)
        covered[ticker] = [str(first), str(last)]
        try:
            check_inside(f"{ticker}'s price history", first, last, args.start, args.end)
        except OutsideData:
            if not args.order:
                raise
            skipped.append(ticker)  # a ranking covers the tickers whose history spans the window
    tickers = [t for t in args.tickers if t not in skipped]
    if not tickers:
        raise OutsideData("no ticker's price history covers that window")
    end = args.end or min(date.fromisoformat(covered[t][1]) for t in tickers)
    if args.metric == "price" and args.start is None and args.lookback_days is None:
        for ticker in tickers:
            results.append(_price_on(con, ticker, end, inputs))
    elif args.metric in DAY_METRICS:
        for ticker in tickers:
            results.append(_day_bar(con, ticker, end, args.metric, inputs))
    elif args.metric == "correlation":
        results.append(_pair(con, args, end, inputs))
    else:
        for ticker in tickers:
            rows = _series(
                con,
                ticker,
                args.start,
                end,
                args.lookback_days,
                returns=args.metric in _NEED_TWO or args.metric == "correlation",
            )
            if len(rows) < (2 if args.metric in _NEED_TWO else 1):
                continue
            results.append(_one(con, ticker, rows, args, inputs))
    if not results:
        raise InsufficientData(
            f"too few trading days in that window to compute {args.metric}", hint="widen the window"
        )
    if args.order:
        results.sort(
            key=lambda r: (r["value"] is None, r["value"]), reverse=args.order == "highest"
        )
        results = [r for r in results if r["value"] is not None]
        results = results[: args.limit] if args.limit else results
    return {
        "metric": args.metric,
        "start": str(args.start) if args.start else None,
        "end": str(end),
        "lookback_days": args.lookback_days,
        "coverage": covered,
        "results": results,
        "skipped": skipped,
        "inputs": inputs,
        "method": METHODS[args.metric],
    }


METHODS = {
    "price": "adjusted close of the day (the last trading day on or before it, with its date)",
    "return": "simple return: last adj_close / first adj_close - 1 over the window's trading days",
    "max_drawdown": "deepest fall of adj_close below its running peak within the window "
    "(peak-to-trough, negative)",
    "volatility": "sample standard deviation (n-1) of daily log returns in the window x sqrt(252)",
    "volume": "shares traded per day over the window (mean unless sum asked)",
    "dollar_volume": "close x volume per day over the window (mean unless sum asked)",
    "correlation": "Pearson correlation of the two tickers' daily log returns on common dates",
    "beta": "OLS slope of daily log returns on the benchmark's, common dates in the window",
    "price_change": "adj_close on the window's last trading day minus on its first, in dollars",
    "worst_day": "largest one-day fall: adj_close / previous adj_close - 1, lowest in the window",
    "best_day": "largest one-day rise: adj_close / previous adj_close - 1, highest in the window",
    "high": "highest adj_close in the window, with its date",
    "low": "lowest adj_close in the window, with its date",
    "day_volume": "shares traded on that trading day (stored volume)",
    "day_high": "intraday high of that trading day (stored, unadjusted)",
    "day_low": "intraday low of that trading day (stored, unadjusted)",
    "day_open": "opening price of that trading day (stored, unadjusted)",
    "day_return": "simple return into that trading day: adj_close / previous adj_close - 1",
}

# One trading day's stored bar; the day must be a trading day (no nearest-day substitute).
DAY_METRICS = {"day_volume": "volume", "day_high": "high", "day_low": "low", "day_open": "open",
               "day_return": "adj_close"}  # fmt: skip


_NEED_TWO = ("return", "max_drawdown", "volatility", "beta", "worst_day", "best_day",
             "price_change")  # fmt: skip


def _price_on(
    con: duckdb.DuckDBPyConnection, ticker: str, day: date, inputs: list[dict[str, Any]]
) -> dict[str, Any]:
    row = con.execute(
        "SELECT date, adj_close, close FROM prices WHERE ticker = ? AND date <= ? "
        "ORDER BY date DESC LIMIT 1",
        [ticker, day],
    ).fetchone()
    if row is None:
        raise OutsideData(f"no price of {ticker} on or before {day}")
    inputs.append(input_value(ticker, "adj_close", row[0], row[1]))
    return {
        "ticker": ticker,
        "value": float(row[1]),
        "close": row[2],
        "date": str(row[0]),
        "exact_day": row[0] == day,
    }


def _day_bar(
    con: duckdb.DuckDBPyConnection,
    ticker: str,
    day: date,
    metric: str,
    inputs: list[dict[str, Any]],
) -> dict[str, Any]:
    """``metric`` (a DAY_METRICS key) of ``ticker`` on the trading day ``day`` exactly."""
    column = DAY_METRICS[metric]
    row = con.execute(
        f"SELECT {column} FROM prices WHERE ticker = ? AND date = ?", [ticker, day]
    ).fetchone()
    if row is None or row[0] is None:
        raise InsufficientData(
            f"no {column.replace('adj_close', 'price')} of {ticker} is stored for {day} "
            "(not a trading day, or not reported)",
            hint="ask about a trading day",
        )
    out: dict[str, Any] = {"ticker": ticker, "date": str(day), "first_date": str(day),
                           "last_date": str(day), "days": 1}  # fmt: skip
    if metric != "day_return":
        inputs.append(input_value(ticker, column, day, row[0]))
        return {**out, "value": float(row[0])}
    prev = con.execute(
        "SELECT date, adj_close FROM prices WHERE ticker = ? AND date < ? ORDER BY date DESC "
        "LIMIT 1",
        [ticker, day],
    ).fetchone()
    if prev is None:
        raise InsufficientData(f"no close of {ticker} before {day} is stored to measure a return")
    inputs += [input_value(ticker, "adj_close", prev[0], prev[1]),
               input_value(ticker, "adj_close", day, row[0])]  # fmt: skip
    out.update(value=float(row[0]) / float(prev[1]) - 1.0, previous_date=str(prev[0]))
    return out


def _one(
    con: duckdb.DuckDBPyConnection,
    ticker: str,
    rows: list[tuple[date, float, float, float]],
    args: PriceWindowArgs,
    inputs: list[dict[str, Any]],
) -> dict[str, Any]:
    days = [r[0] for r in rows]
    adj = np.array([r[1] for r in rows], dtype=float)
    out: dict[str, Any] = {
        "ticker": ticker,
        "first_date": str(days[0]),
        "last_date": str(days[-1]),
        "days": len(rows),
    }
    m = args.metric
    if m == "return":
        out["value"] = float(adj[-1] / adj[0] - 1.0)
        inputs += [
            input_value(ticker, "adj_close", days[0], adj[0]),
            input_value(ticker, "adj_close", days[-1], adj[-1]),
        ]
    elif m == "max_drawdown":
        peaks = np.maximum.accumulate(adj)
        dd = adj / peaks - 1.0
        trough = int(np.argmin(dd))
        peak = int(np.argmax(adj[: trough + 1]))
        out.update(
            value=float(dd[trough]), peak_date=str(days[peak]), trough_date=str(days[trough])
        )
        inputs += [
            input_value(ticker, "adj_close", days[peak], adj[peak]),
            input_value(ticker, "adj_close", days[trough], adj[trough]),
        ]
    elif m == "volatility":
        r = np.diff(np.log(adj))
        out.update(
            value=float(np.std(r, ddof=1) * math.sqrt(TRADING_DAYS)) if len(r) > 1 else None,
            returns=len(r),
        )
        inputs += [
            input_value(ticker, "adj_close", days[0], adj[0]),
            input_value(ticker, "adj_close", days[-1], adj[-1]),
        ]
    elif m in ("volume", "dollar_volume"):
        out.update(_volume(ticker, rows, args))
        inputs.append(input_value(ticker, f"{m} {out['aggregation']}", f"{days[0]}..{days[-1]}",
                                  out["value"]))  # fmt: skip
    elif m == "price":
        how = args.aggregation or "last"
        out.update(value=_aggregate(adj, how), aggregation=how, date=str(days[-1]))
        inputs.append(
            input_value(ticker, f"adj_close {how}", f"{days[0]}..{days[-1]}", out["value"])
        )
    elif m == "price_change":
        out["value"] = float(adj[-1] - adj[0])
        inputs += [input_value(ticker, "adj_close", days[0], adj[0]),
                   input_value(ticker, "adj_close", days[-1], adj[-1])]  # fmt: skip
    elif m in ("worst_day", "best_day"):
        moves = adj[1:] / adj[:-1] - 1.0
        i = int(np.argmin(moves) if m == "worst_day" else np.argmax(moves))
        out.update(value=float(moves[i]), date=str(days[i + 1]), previous_date=str(days[i]))
        inputs += [input_value(ticker, "adj_close", days[i], adj[i]),
                   input_value(ticker, "adj_close", days[i + 1], adj[i + 1])]  # fmt: skip
    elif m in ("high", "low"):
        i = int(np.argmax(adj) if m == "high" else np.argmin(adj))
        out.update(value=float(adj[i]), date=str(days[i]))
        inputs.append(input_value(ticker, "adj_close", days[i], adj[i]))
    elif m == "beta":
        out.update(_beta(con, ticker, rows, args.benchmark))
    return out


def _aggregate(values: np.ndarray, how: str) -> float:
    if how == "last":
        return float(values[-1])
    if how == "sum":
        return float(values.sum())
    if how == "max":
        return float(values.max())
    if how == "min":
        return float(values.min())
    return float(values.mean())


def _volume(
    ticker: str, rows: list[tuple[date, float, float, float]], args: PriceWindowArgs
) -> dict[str, Any]:
    vol = np.array([r[3] for r in rows], dtype=float)
    if args.metric == "dollar_volume":
        vol = vol * np.array([r[2] for r in rows], dtype=float)
    vol = vol[~np.isnan(vol)]  # days without a reported volume are left out, not zero
    if not len(vol):
        raise InsufficientData(f"no volume is stored for {ticker} in that window")
    how = args.aggregation or "mean"
    return {"value": _aggregate(vol, how), "aggregation": how, "days": len(vol)}


def _beta(
    con: duckdb.DuckDBPyConnection,
    ticker: str,
    rows: list[tuple[date, float, float, float]],
    benchmark: str,
) -> dict[str, Any]:
    bench = _series(con, benchmark, rows[0][0], rows[-1][0], None)
    x, y = _aligned(rows, bench)
    if len(x) < 3:
        raise InsufficientData(f"too few common days of {ticker} and {benchmark}")
    cov = np.cov(y, x, ddof=1)
    return {"value": float(cov[0, 1] / cov[1, 1]), "benchmark": benchmark, "returns": len(x)}


def _aligned(a: list[tuple], b: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Daily log returns of ``b`` (x) and ``a`` (y) on the dates both hold (consecutive pairs)."""
    pa = {r[0]: r[1] for r in a}
    pb = {r[0]: r[1] for r in b}
    common = sorted(set(pa) & set(pb))
    x = [math.log(pb[d1] / pb[d0]) for d0, d1 in zip(common, common[1:], strict=False)]
    y = [math.log(pa[d1] / pa[d0]) for d0, d1 in zip(common, common[1:], strict=False)]
    return np.array(x), np.array(y)


def _pair(
    con: duckdb.DuckDBPyConnection, args: PriceWindowArgs, end: date, inputs: list[dict[str, Any]]
) -> dict[str, Any]:
    a, b = args.tickers
    ra = _series(con, a, args.start, end, args.lookback_days)
    start = ra[0][0] if ra else args.start
    rb = _series(con, b, start, end, None)
    x, y = _aligned(ra, rb)
    if len(x) < 3:
        raise InsufficientData(f"too few common trading days of {a} and {b} in that window")
    value = float(np.corrcoef(x, y)[0, 1])
    inputs.append(
        input_value(f"{a}~{b}", "correlation_daily_log_returns", f"{start}..{end}", value)
    )
    return {
        "ticker": f"{a}/{b}",
        "tickers": [a, b],
        "value": value,
        "returns": len(x),
        "first_date": str(start),
        "last_date": str(end),
    }


# -- macro ----------------------------------------------------------------------------------------


# -- fundamentals ---------------------------------------------------------------------------------
def fundamentals_values(con: duckdb.DuckDBPyConnection, args: FundamentalsArgs) -> dict[str, Any]:
    """The items per fiscal year with their sources, and the ratio/difference/growth asked."""
    if args.arithmetic in ("ratio", "minus") and len(args.items) != 2:
        raise ToolInputError(f"{args.arithmetic} needs two items", hint="give two items")
    marks = ", ".join("?" for _ in args.items)
    params: list[Any] = [args.ticker, *args.items]
    years = ""
    if args.fiscal_years:
        years = f" AND fiscal_year IN ({', '.join('?' for _ in args.fiscal_years)})"
        params += list(args.fiscal_years)
    rows = con.execute(
        "SELECT fiscal_year, item, value, unit, period_end, source_doc, source_page FROM "
        f"fundamentals WHERE ticker = ? AND item IN ({marks}){years} ORDER BY fiscal_year, item",
        params,
    ).fetchall()
    held = con.execute(
        "SELECT min(fiscal_year), max(fiscal_year) FROM fundamentals WHERE ticker = ?",
        [args.ticker],
    ).fetchone()
    if not rows:
        span = f"fiscal {held[0]} to {held[1]}" if held and held[0] else "no fiscal year"
        raise OutsideData(
            f"the fundamentals hold no {', '.join(args.items)} for {args.ticker} "
            f"in that year (they cover {span})",
            hint="ask about a year held",
        )
    by_year: dict[int, dict[str, Any]] = {}
    inputs = []
    for fy, item, value, unit, end, doc, page in rows:
        by_year.setdefault(fy, {})[item] = {
            "value": float(value),
            "unit": unit,
            "period_end": str(end),
            "source_doc": doc,
            "source_page": page,
        }
        inputs.append(input_value(args.ticker, item, end, value, f"fundamentals FY{fy}"))
    years_out = []
    for fy, items in sorted(by_year.items()):
        entry: dict[str, Any] = {"fiscal_year": fy, "items": items}
        if args.arithmetic in ("ratio", "minus"):
            a, b = (items.get(i, {}).get("value") for i in args.items)
            if a is not None and b is not None:
                entry["value"] = (
                    a / b
                    if args.arithmetic == "ratio" and b
                    else (a - b if args.arithmetic == "minus" else None)
                )
        years_out.append(entry)
    if args.arithmetic == "growth":
        first = [y for y in years_out if args.items[0] in y["items"]]
        for prev, cur in zip(first, first[1:], strict=False):
            a = prev["items"][args.items[0]]["value"]
            cur["value"] = cur["items"][args.items[0]]["value"] / a - 1.0 if a else None
    return {
        "ticker": args.ticker,
        "items": list(args.items),
        "arithmetic": args.arithmetic,
        "years": years_out,
        "inputs": inputs,
    }


# -- macro through the guarded SQL tool -----------------------------------------------------------
