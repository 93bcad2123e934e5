"""Quantities over the window a question names, computed from price history by the tools."""

from __future__ import annotations

import re
from typing import Any

from app.agent.compose import bar_chart, fmt
from app.agent.evidence import Evidence
from app.agent.offline.base import Declined, Outcome, call
from app.agent.offline.macro import FREQUENCY_WORDS
from app.agent.request import QuestionRequest
from tools.context import ToolContext


def _window_args(req: QuestionRequest) -> tuple[dict[str, Any], str, set[str]]:
    """start/end/lookback arguments, their words for the answer, and the kinds they consume."""
    if req.window is not None:
        w = req.window
        return (
            {"start": w.start.isoformat(), "end": w.end.isoformat()},
            f"over {w.label or f'{w.start} to {w.end}'}",
            {"window", "period"},
        )
    if req.lookback_days is not None:
        end = req.as_of
        args: dict[str, Any] = {"lookback_days": req.lookback_days}
        if end:
            args["end"] = end.isoformat()
        words = f"over the {req.lookback_days} trading days to {end or 'the latest date'}"
        return args, words, {"lookback", "date"}
    if req.as_of is not None:
        return {"end": req.as_of.isoformat()}, f"on {req.as_of}", {"date"}
    return {}, "", set()


def prices(req: QuestionRequest, ctx: ToolContext, ev: Evidence, names: dict) -> Outcome:
    """A quantity over the window (or day) the question names, computed from prices."""
    metric: str = req.metric or "price"
    args, words, used = _window_args(req)
    consumed = {"entity", "metric", *used}
    tickers = list(req.tickers)
    if req.ranking is not None:
        barred = ctx.barred()  # a ranking covers only what the user may see (SECURITY.md 9)
        tickers = [t for t in names["tickers"] if not t.startswith("^") and t not in barred][:30]
        args.update(order=req.ranking.direction, limit=req.ranking.count or 5)
        consumed |= {"ranking", "aggregation"}
    if not tickers:
        raise Declined(
            "I need a ticker to compute this for; none of the question's names is a loaded ticker."
        )
    day = _day_metric(req, metric, used)
    if day is not None:
        metric = day
        consumed.add("aggregation")
        if req.arithmetic is not None:
            consumed.add("arithmetic")
    elif metric == "correlation":
        if len(tickers) != 2:
            raise Declined("A correlation needs exactly two tickers; name two loaded tickers.")
        if "start" not in args and "lookback_days" not in args:
            args["lookback_days"] = 252
            words = f"over the 252 trading days to {req.as_of or 'the latest date'}"
    elif (
        metric in ("price", "return")
        and req.arithmetic is not None
        and req.arithmetic.op in ("change", "growth")
    ):
        metric = "price_change" if req.arithmetic.op == "change" else "return"
        consumed.add("arithmetic")
        if "start" not in args:
            raise Declined("A change needs a period: from which date to which?")
    elif metric == "price" and "start" in args:
        metric = {"max": "high", "min": "low"}.get(req.aggregation or "", "price")
        if metric == "price":
            return _price_aggregate(req, ctx, ev, args, words, consumed)
    elif metric in ("worst_day", "best_day", "high", "low") and not args:
        words = "over the whole stored history"
    elif metric not in ("price",) and "start" not in args and "lookback_days" not in args:
        raise Declined(
            f"Over which period? A {metric.replace('_', ' ')} needs a window (e.g. "
            "'in 2021' or 'from 2020-01-01 to 2020-06-30'); none was given."
        )
    if metric in ("volume", "dollar_volume"):
        # "How many shares traded in 2010" asks for the total; "highest daily volume" for the
        # largest day. Only an unqualified volume over a window reads as the daily average (and
        # the answer says so).
        args["aggregation"] = VOLUME_AGGREGATION.get(req.aggregation or "", "mean")
        consumed.add("aggregation")
    if req.comparison:
        consumed.add("comparison")
    result = call(ctx, ev, "price_window", {"metric": metric, "tickers": tickers, **args})
    rows = result["results"]
    text = _price_text(metric, rows, result, words, req)
    chart = None
    if len(rows) > 1:
        chart = bar_chart(
            f"{metric.replace('_', ' ')} {words}", [(r["ticker"], r["value"]) for r in rows], metric
        )
    who = (
        ", ".join(tickers)
        if req.ranking is None
        else f"the stocks you may see, ranked {req.ranking.direction} first"
    )
    interp = f"{_METRIC_WORDS[metric]} of {who} {words}; {result['method']}"
    return Outcome(text, chart, consumed, interp)


# "on <day>" with a quantity of one trading day's bar: that day's stored value, not a window.
_DAY_OF = {"volume": "day_volume", "high": "day_high", "low": "day_low", "return": "day_return"}
_NOT_ONE_DAY = re.compile(r"all[- ]time|52[- ]week|record|ever|highest|lowest|peak|trough|average"
                          r"|mean|total", re.I)  # fmt: skip


def _day_metric(req: QuestionRequest, metric: str, used: set[str]) -> str | None:
    """The one-day metric a question about a single trading day asks for, else None."""
    if used != {"date"} or req.ranking is not None or len(req.tickers) != 1:
        return None
    if req.aggregation not in (None, "value") and not (
        metric == "volume" and req.aggregation == "count"  # "how many shares traded"
    ):
        return None
    if req.arithmetic is not None and not (metric in ("price", "return")
                                           and req.arithmetic.op == "growth"):  # fmt: skip
        return None
    if req.arithmetic is not None:
        metric = "return"  # "percentage change on <day>": the day's return
    words = " ".join(c.text for c in req.constraints if c.kind == "metric")
    if metric not in _DAY_OF or _NOT_ONE_DAY.search(words):
        return None
    return _DAY_OF[metric]


_METRIC_WORDS = {
    "price": "adjusted close",
    "return": "simple return",
    "max_drawdown": "maximum drawdown (peak-to-trough)",
    "volatility": "realized volatility (annualized)",
    "volume": "trading volume (shares)",
    "dollar_volume": "dollar volume (close x shares)",
    "correlation": "correlation of daily log returns",
    "beta": "beta to the S&P 500",
    "price_change": "change in adjusted close (USD)",
    "worst_day": "largest one-day fall",
    "best_day": "largest one-day rise",
    "high": "highest adjusted close",
    "low": "lowest adjusted close",
    "day_volume": "trading volume (shares)",
    "day_high": "intraday high (stored, unadjusted)",
    "day_low": "intraday low (stored, unadjusted)",
    "day_return": "one-day simple return from the previous close",
}


_METRIC_UNIT = {"worst_day": "pct2", "best_day": "pct2", "return": "pct", "max_drawdown": "pct",
                "volatility": "pct", "beta": "ratio", "correlation": "ratio"}  # fmt: skip


VOLUME_AGGREGATION = {"sum": "sum", "count": "sum", "max": "max", "min": "min", "mean": "mean"}
_VOLUME_HOW = {"mean": "a day on average", "sum": "in total", "max": "on its busiest day",
               "min": "on its quietest day"}  # fmt: skip


def _value_words(metric: str, r: dict[str, Any]) -> str:
    v = r["value"]
    if metric in ("volume",):
        return f"{fmt(v, 'int')} shares {_VOLUME_HOW[r.get('aggregation') or 'mean']}"
    if metric == "dollar_volume":
        return f"{fmt(v, 'usd')} {_VOLUME_HOW[r.get('aggregation') or 'mean']}"
    if metric == "day_volume":
        return f"{fmt(v, 'int')} shares"
    if metric in ("day_high", "day_low"):
        return fmt(v, "price")
    if metric == "day_return":
        return f"{fmt(v, 'pct2')} (from the close of {r['previous_date']})"
    if metric in ("price", "high", "low"):
        return f"{fmt(v, 'price')} on {r['date']}"
    if metric == "price_change":
        return f"USD {v:+,.2f}"
    if metric in ("worst_day", "best_day"):
        return f"{fmt(v, 'pct2')} on {r['date']} (from the close of {r['previous_date']})"
    return fmt(v, _METRIC_UNIT.get(metric, "number"))


def _price_text(
    metric: str,
    rows: list[dict[str, Any]],
    result: dict[str, Any],
    words: str,
    req: QuestionRequest,
) -> str:
    if metric == "price" and req.ranking is None:
        parts = []
        for r in rows:
            note = (
                ""
                if r.get("exact_day")
                else (f" (no trading on {req.as_of}; this is the last close before it)")
            )
            raw = f" (raw close {fmt(r['close'], 'price')})" if r.get("close") is not None else ""
            parts.append(
                f"{r['ticker']}'s adjusted close was {fmt(r['value'], 'price')} on {r['date']}"
                f"{note}{raw}."
            )
        return " ".join(parts)
    if req.ranking is not None:
        items = "; ".join(
            f"{i}. {r['ticker']} {_value_words(metric, r)}" for i, r in enumerate(rows, 1)
        )
        span = (
            f"; trading days {rows[0]['first_date']} to {rows[0]['last_date']}"
            if "first_date" in rows[0]
            else ""
        )
        return (
            f"Ranked by {_METRIC_WORDS[metric]} {words} ({req.ranking.direction} first{span}): "
            f"{items}."
        )
    parts = []
    for r in rows:
        extra = ""
        if metric == "max_drawdown":
            extra = f", from the peak on {r['peak_date']} to the trough on {r['trough_date']}"
        span = f" ({r['first_date']} to {r['last_date']}, {r.get('days', r.get('returns'))} days)"
        if metric.startswith("day_"):
            span = ""
        parts.append(
            f"{r['ticker']}'s {_METRIC_WORDS[metric]} {words} was "
            f"{_value_words(metric, r)}{extra}{span}."
        )
    return " ".join(parts)


def _price_aggregate(
    req: QuestionRequest,
    ctx: ToolContext,
    ev: Evidence,
    args: dict[str, Any],
    words: str,
    consumed: set[str],
) -> Outcome:
    """Mean/first/last adjusted close over a window: the high and low come with it."""
    ticker = req.tickers[0]
    hi = call(ctx, ev, "price_window", {"metric": "high", "tickers": [ticker], **args})
    lo = call(ctx, ev, "price_window", {"metric": "low", "tickers": [ticker], **args})
    h, low = hi["results"][0], lo["results"][0]
    if req.aggregation != "mean":
        raise Declined(
            f"I can give the high ({fmt(h['value'])} on {h['date']}) and low "
            f"({fmt(low['value'])} on {low['date']}) of {ticker}'s adjusted close "
            f"{words}, but not the '{req.aggregation}' of it."
        )
    mean = call(
        ctx,
        ev,
        "price_window",
        {"metric": "price", "tickers": [ticker], **args, "aggregation": "mean"},
    )
    m = mean["results"][0]
    text = (
        f"{ticker}'s average adjusted close {words} was {fmt(m['value'])} over "
        f"{m['days']} trading days ({m['first_date']} to {m['last_date']}); high "
        f"{fmt(h['value'])} on {h['date']}, low {fmt(low['value'])} on {low['date']}."
    )
    return Outcome(
        text, None, consumed | {"aggregation"}, f"mean of {ticker}'s daily adjusted close {words}"
    )


def data_coverage(req: QuestionRequest, ctx: ToolContext, ev: Evidence, names: dict) -> Outcome:
    """The range of dates (and trading days) the data holds for the names asked."""
    if req.tickers:
        listed = call(ctx, ev, "describe_data", {"topic": "tickers"})["tickers"]
        rows = [r for r in listed if r["ticker"] in req.tickers]
        parts = [f"{r['ticker']}: {r['days']:,} trading days of prices, from {r['first']} to "
                 f"{r['last']}" for r in rows]  # fmt: skip
        what = "stored price history of " + ", ".join(req.tickers)
    else:
        listed = call(ctx, ev, "describe_data", {"topic": "macro_series"})["macro_series"]
        rows = [r for r in listed if r["series"] in req.macro_series]
        parts = [f"{r['series']} ({FREQUENCY_WORDS.get(r['frequency'], r['frequency'])}, "
                 f"{r['unit']}): from {r['first']} to {r['last']}" for r in rows]  # fmt: skip
        what = "stored range of " + ", ".join(req.macro_series)
    if not parts:
        raise Declined("None of the names asked about has stored data you may see.")
    consumed = {"entity", "metric", "aggregation", "comparison"}
    return Outcome("; ".join(parts) + ".", None, consumed, what)
