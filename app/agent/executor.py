"""The deterministic executor: a ``QuestionRequest`` run through the typed history tools.

It answers what the stored rolling features cannot: a quantity over the window the question names
(return, max drawdown, volatility, volume, correlation, beta, high/low, price on a day), rankings
of those across tickers, macro values at a day/month/quarter/year and arithmetic between series,
and ratios of fundamentals. Each handler returns the text and the constraint kinds it consumed,
so ``app.agent.coverage`` can hold the plan to the question. The LLM plan mode fills the same
``QuestionRequest`` and calls ``run_request``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from app.agent.compose import bar_chart, fmt
from app.agent.evidence import Evidence
from app.agent.request import DateWindow, QuestionRequest
from app.agent.steps import Declined, call
from tools.context import ToolContext
from tools.history import macro_range_sql, macro_window_sql, observation_for_day

# Stored rolling features the legacy plans answer; a window or lookback makes them the wrong number.
STORED_WINDOW_WORDS = ("20-day", "20 day", "60-day", "60 day", "252-day", "252 day", "ewma", "20d",
                       "60d", "rolling")  # fmt: skip
HISTORY_WORDS = ("history", "over time", "trend", "chart", "plot", "evolution", "time series",
                 "daily values", "show")  # fmt: skip
KINDS_ALL = frozenset({"entity", "metric", "date", "window", "period", "aggregation", "ranking",
                       "arithmetic", "comparison", "lookback", "fiscal_year"})  # fmt: skip


@dataclass
class Outcome:
    """What a plan produced: text, an optional chart, the constraints used, its interpretation."""

    text: str
    chart: dict[str, Any] | None = None
    consumed: set[str] = field(default_factory=set)
    interpretation: str = ""


Handler = Callable[[QuestionRequest, ToolContext, Evidence, dict[str, list[str]]], Outcome]


DOCUMENT_WORDS = re.compile(
    r"\b(say|says|said|mention\w*|discuss\w*|disclos\w*|describe\w*|according to|10-?k|10-?q"
    r"|filing|annual report|memo|note|document\w*|risk factors)\b",
    re.I,
)


_STORED = re.compile(
    r"\b(20|60|252)[- ](trading[- ])?(day|session)s?\b.{0,30}\b(vol|beta|draw)|riskmetrics"
    r"|lambda 0\.94",
    re.I,
)
_EVER = re.compile(r"\bever\b|all[- ]time|in (our|the) data|on record|whole history", re.I)


_COVERAGE = re.compile(
    r"how many (trading )?days|first and last (date|day)|(date|data) range|how far back"
    r"|earliest and latest|since when|which dates|what dates|first (date|day) of|last (date|day) "
    r"of|start and end date",
    re.I,
)


def route(req: QuestionRequest) -> str | None:
    """The executor family that must answer ``req``, or None for the intent plans."""
    low = req.question.lower()
    if _COVERAGE.search(low) and (req.tickers or req.macro_series) and not req.items:
        return "coverage"
    if DOCUMENT_WORDS.search(low) and req.arithmetic is None:
        return None  # what the documents say: the search plan answers with citations
    names_stored = any(w in low for w in STORED_WINDOW_WORDS) or bool(_STORED.search(low))
    if req.macro_series and not req.tickers:
        if req.arithmetic is not None or req.window is not None or req.as_of is not None:
            return "macro"
        if req.aggregation in ("max", "min") or req.metric in ("high", "low"):
            return "macro"  # "the highest ever": over the whole series
        return None
    if req.arithmetic is not None and req.arithmetic.op in ("ratio", "minus", "growth", "change"):
        if req.items and req.tickers and len(req.items) >= 1:
            return "fundamentals"
    if req.items:
        return None
    if req.metric is None:
        return None
    if req.metric in ("volume", "dollar_volume", "correlation") and "adv" not in low:
        return "prices" if (req.tickers or req.ranking) else None
    if names_stored:
        return None
    has_window = req.window is not None or req.lookback_days is not None
    if req.metric == "price" and req.arithmetic is not None and has_window:
        return "prices"
    if req.metric == "price":
        if any(w in low for w in HISTORY_WORDS):
            return None
        if req.as_of is not None or (has_window and req.aggregation) or req.ranking:
            return "prices"
        return None
    if req.metric in ("worst_day", "best_day") and req.tickers:
        return "prices"
    if req.metric in ("high", "low") and (has_window or req.as_of or _EVER.search(low)):
        return "prices"
    if has_window and not any(w in low for w in HISTORY_WORDS[:-1]):
        return "prices"
    if req.metric == "return" and req.tickers:
        return "prices"
    return None


def run_request(
    family: str, req: QuestionRequest, ctx: ToolContext, ev: Evidence, names: dict[str, list[str]]
) -> Outcome:
    """Run ``req`` through the family's handler (raises ``Declined`` with a plain reason)."""
    return FAMILIES[family](req, ctx, ev, names)


# -- prices ---------------------------------------------------------------------------------------
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


def _prices(req: QuestionRequest, ctx: ToolContext, ev: Evidence, names: dict) -> Outcome:
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
    if metric == "correlation":
        if len(tickers) != 2:
            raise Declined("A correlation needs exactly two tickers; name two loaded tickers.")
        if "start" not in args and "lookback_days" not in args:
            args["lookback_days"] = 252
            words = f"over the 252 trading days to {req.as_of or 'the latest date'}"
    elif (
        metric == "price"
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
        args["aggregation"] = "sum" if req.aggregation == "sum" else "mean"
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
}
_METRIC_UNIT = {"worst_day": "pct2", "best_day": "pct2", "return": "pct", "max_drawdown": "pct",
                "volatility": "pct", "beta": "ratio", "correlation": "ratio"}  # fmt: skip


def _value_words(metric: str, r: dict[str, Any]) -> str:
    v = r["value"]
    if metric in ("volume",):
        how = "a day on average" if r.get("aggregation") == "mean" else "in total"
        return f"{fmt(v, 'int')} shares {how}"
    if metric == "dollar_volume":
        how = "a day on average" if r.get("aggregation") == "mean" else "in total"
        return f"{fmt(v, 'usd')} {how}"
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


# -- macro ----------------------------------------------------------------------------------------
_SERIES_WORDS = {"baa": "Moody's BAA corporate yield", "aaa": "Moody's AAA corporate yield",
                 "vix": "the VIX", "wti": "WTI crude oil", "unemp": "the US unemployment rate",
                 "tbilrate": "the 3-month T-bill rate", "infl": "US inflation"}  # fmt: skip


def series_words(series: str) -> str:
    """A readable name of a macro series."""
    from app.agent.planner_more import _MACRO_LABELS

    return _MACRO_LABELS.get(series, _SERIES_WORDS.get(series, series))


def _macro(req: QuestionRequest, ctx: ToolContext, ev: Evidence, names: dict) -> Outcome:
    if req.arithmetic is not None and req.arithmetic.op in (
        "minus",
        "spread",
        "ratio",
        "change",
        "growth",
    ):
        return _macro_arithmetic(req, ctx, ev)
    if len(req.macro_series) > 1:
        raise Declined(
            f"The question names several series ({', '.join(req.macro_series)}) "
            "without saying how to combine them; ask for one, or for their spread."
        )
    series = req.macro_series[0]
    if req.metric in ("high", "low") and req.aggregation is None:
        req = req.model_copy(update={"aggregation": "max" if req.metric == "high" else "min"})
    if req.window is None and req.as_of is None and req.aggregation in ("max", "min"):
        req = req.model_copy(update={"window": _WHOLE})  # "the highest ever": the whole series
    if req.window is not None:
        lo, hi, words = req.window.start, req.window.end, req.window.label
        used = {"window", "period"}
    elif req.as_of is not None:
        lo, hi, words = req.as_of - timedelta(days=100), req.as_of + timedelta(days=100), ""
        used = {"date"}
    else:
        raise Declined("For which date or period?")
    result = call(ctx, ev, "query_features", {"sql": macro_window_sql(series, lo, hi)})
    rows = [dict(zip(result["columns"], r, strict=True)) for r in result["rows"]]
    name = series_words(series)
    name = name[0].upper() + name[1:]
    if req.as_of is not None and req.window is None:
        obs = observation_for_day(rows, req.as_of)
        if obs is None:
            raise Declined(_macro_gap(ctx, ev, series, f"{req.as_of}"))
        note = (
            ""
            if obs["date"] == req.as_of.isoformat()
            else (
                f" (the latest observation on or before {req.as_of}; the series is daily)"
                if obs["frequency"] == "D"
                else f" (the {_FREQ.get(obs['frequency'], '')} observation covering {req.as_of})"
            )
        )
        text = (
            f"{name} was {fmt(obs['value'])} ({obs['unit']}) on {obs['date']}{note}, macro "
            f"series {series}."
        )
        return Outcome(
            text, None, _macro_consumed(req, used), f"{series} observation for {req.as_of}"
        )
    if not rows:
        raise Declined(_macro_gap(ctx, ev, series, words))
    unit, freq = rows[0]["unit"], rows[0]["frequency"]
    if len(rows) == 1 and req.aggregation in (None, "mean", "max", "min"):
        r = rows[0]
        text = (
            f"{name} for {words} was {fmt(r['value'])} ({unit}), the {_FREQ.get(freq, '')} "
            f"observation dated {r['date']} (macro series {series})."
        )
        return Outcome(
            text,
            None,
            _macro_consumed(req, used | {"aggregation"}),
            f"the {series} observation of {words}",
        )
    agg = req.aggregation or "mean"
    first = rows[0]
    picked = {"mean": first["period_mean"], "max": first["period_high"],
              "min": first["period_low"]}.get(agg)  # fmt: skip
    if picked is None:
        raise Declined(f"I can't take the '{agg}' of {series} over {words}.")
    # Period figures come from the query's aggregates (the rows may be cut at the row cap).
    text = (
        f"{name} over {words} ({unit}, {first['period_count']} {_FREQ.get(freq, '')} "
        f"observations from {first['period_start']} to {first['period_end']}): {agg} "
        f"{fmt(picked)}; low {fmt(first['period_low'])} on {first['low_date']}, high "
        f"{fmt(first['period_high'])} on {first['high_date']}; last observation "
        f"{fmt(first['period_last_value'])} on {first['period_end']} (macro series {series})."
    )
    return Outcome(
        text,
        None,
        _macro_consumed(req, used | {"aggregation"}),
        f"{agg} of {series} over {words} ({first['period_count']} observations)",
    )


_WHOLE = DateWindow(start=date(1800, 1, 1), end=date(2199, 12, 31), label="the whole series")
# Metric words that describe a macro series' own value ("oil price", "volatility index").
_MACRO_METRICS = frozenset({"price", "high", "low", None})


def _macro_consumed(req: QuestionRequest, used: set[str]) -> set[str]:
    own = req.metric in _MACRO_METRICS or (req.metric == "volatility" and "vix" in req.macro_series)
    return {"entity", *used} | ({"metric"} if own else set())


_FREQ = {"D": "daily", "M": "monthly", "Q": "quarterly", "A": "annual"}


def _macro_gap(ctx: ToolContext, ev: Evidence, series: str, asked: str) -> str:
    r = call(ctx, ev, "query_features", {"sql": macro_range_sql(series)})
    if not r["rows"]:
        return f"No macro series {series} is loaded."
    _, first, last, freq = r["rows"][0]
    return (
        f"I have no {series} observation for {asked}: the series is "
        f"{_FREQ.get(freq, freq)} and covers {first} to {last}. Ask about a date or period "
        "inside that range."
    )


def _macro_arithmetic(req: QuestionRequest, ctx: ToolContext, ev: Evidence) -> Outcome:
    assert req.arithmetic is not None
    op = "minus" if req.arithmetic.op in ("minus", "spread") else req.arithmetic.op
    series = [s for s in (req.arithmetic.left, req.arithmetic.right) if s]
    if op in ("minus", "ratio") and len(series) != 2:
        raise Declined("I could not tell which two series to combine.")
    if op in ("change", "growth"):
        series = series[:1]
    args: dict[str, Any] = {"series": series, "arithmetic": op}
    if req.window is not None:
        args.update(start=req.window.start.isoformat(), end=req.window.end.isoformat())
        words, used = req.window.label, {"window", "period"}
    elif req.as_of is not None:
        args["end"] = req.as_of.isoformat()
        words, used = str(req.as_of), {"date"}
    else:
        raise Declined("For which date or period? The question names none.")
    if op in ("change", "growth") and "start" not in args:
        raise Declined("A change needs a period (e.g. 'in 2008' or 'from Q1 2008 to Q4 2008').")
    r = call(ctx, ev, "macro_values", args)
    parts = [
        f"{series_words(s['series'])} {fmt(s['value'])} ({s['unit']}, "
        f"{s['how'] if s['how'] != 'value' else 'observation of ' + s['last']['date']})"
        for s in r["series"]
    ]
    if op == "minus":
        head = (
            f"The spread of {series[0]} over {series[1]} for {words} was "
            f"{fmt(r['value'])} percentage points"
            if r["series"][0]["unit"] == "percent"
            else f"{series[0]} minus {series[1]} for {words} was {fmt(r['value'])}"
        )
    elif op == "ratio":
        head = f"The ratio of {series[0]} to {series[1]} for {words} was {fmt(r['value'], 'ratio')}"
    else:
        s = r["series"][0]
        a, b = s["first"], s["last"]
        shown = fmt(r["value"], "pct2") if op == "growth" else fmt(r["value"])
        head = (
            f"{series_words(series[0])} {'grew' if op == 'growth' else 'changed'} by {shown} "
            f"over {words}, from {fmt(a['value'])} on {a['date']} to {fmt(b['value'])} on "
            f"{b['date']}"
        )
        return Outcome(
            head + f" (macro series {series[0]}).",
            None,
            {"entity", "arithmetic", *used},
            f"{op} of {series[0]} over {words}: last observation of the period against its first",
        )
    text = head + ": " + "; ".join(parts) + "."
    return Outcome(
        text,
        None,
        {"entity", "arithmetic", "aggregation", *used},
        f"{series[0]} {op} {series[1]} for {words}",
    )


# -- fundamentals ---------------------------------------------------------------------------------
def _fundamentals(req: QuestionRequest, ctx: ToolContext, ev: Evidence, names: dict) -> Outcome:
    assert req.arithmetic is not None
    from app.agent.compose import ITEM_LABELS

    ticker = req.tickers[0]
    op = req.arithmetic.op
    items = [i for i in (req.arithmetic.left, req.arithmetic.right) if i in ITEM_LABELS]
    if op in ("change", "growth") or len(items) < 2:
        op, items = "growth", req.items[:1]
    args: dict[str, Any] = {"ticker": ticker, "items": items, "arithmetic": op}
    years = sorted(set(req.fiscal_years))
    if not years and req.window is not None:
        years = list(range(req.window.start.year, req.window.end.year + 1))
    if op == "growth" and len(years) == 1:
        years = [years[0] - 1, years[0]]
    if years:
        args["fiscal_years"] = years
    r = call(ctx, ev, "fundamentals_values", args)
    lines = []
    for y in r["years"]:
        shown = "; ".join(
            f"{ITEM_LABELS[i]} USD {v['value']:,.0f} million ({v['source_doc']}, page "
            f"{v['source_page']})"
            for i, v in y["items"].items()
        )
        value = y.get("value")
        if op == "ratio" and value is not None:
            lines.append(
                f"fiscal {y['fiscal_year']}: {ITEM_LABELS[items[0]]} / "
                f"{ITEM_LABELS[items[1]]} = {fmt(value, 'ratio')} ({shown})"
            )
        elif op == "minus" and value is not None:
            lines.append(
                f"fiscal {y['fiscal_year']}: difference USD {value:,.0f} million ({shown})"
            )
        elif op == "growth" and value is not None:
            lines.append(
                f"fiscal {y['fiscal_year']}: {ITEM_LABELS[items[0]]} changed "
                f"{fmt(value, 'pct')} on the year before ({shown})"
            )
        else:
            lines.append(f"fiscal {y['fiscal_year']}: {shown}")
    if not any(y.get("value") is not None for y in r["years"]):
        raise Declined(
            f"The fundamentals do not hold both inputs for {ticker} in the years "
            f"asked: {'; '.join(lines)}."
        )
    what = (
        f"{ITEM_LABELS[items[0]]} / {ITEM_LABELS[items[1]]}"
        if op == "ratio"
        else (f"{op} of {', '.join(ITEM_LABELS[i] for i in items)}")
    )
    return Outcome(
        f"{ticker}, {what}: " + "; ".join(lines) + ".",
        None,
        {"entity", "arithmetic", "fiscal_year", "window", "period", "metric", "aggregation"},
        f"{what} for {ticker}, fiscal "
        f"{', '.join(str(y['fiscal_year']) for y in r['years'])}, from the fundamentals "
        "table",
    )


# -- what the data covers -------------------------------------------------------------------------
def _coverage(req: QuestionRequest, ctx: ToolContext, ev: Evidence, names: dict) -> Outcome:
    if req.tickers:
        listed = call(ctx, ev, "describe_data", {"topic": "tickers"})["tickers"]
        rows = [r for r in listed if r["ticker"] in req.tickers]
        parts = [f"{r['ticker']}: {r['days']:,} trading days of prices, from {r['first']} to "
                 f"{r['last']}" for r in rows]  # fmt: skip
        what = "stored price history of " + ", ".join(req.tickers)
    else:
        listed = call(ctx, ev, "describe_data", {"topic": "macro_series"})["macro_series"]
        rows = [r for r in listed if r["series"] in req.macro_series]
        parts = [f"{r['series']} ({_FREQ.get(r['frequency'], r['frequency'])}, {r['unit']}): "
                 f"from {r['first']} to {r['last']}" for r in rows]  # fmt: skip
        what = "stored range of " + ", ".join(req.macro_series)
    if not parts:
        raise Declined("None of the names asked about has stored data you may see.")
    consumed = {"entity", "metric", "aggregation", "comparison"}
    return Outcome("; ".join(parts) + ".", None, consumed, what)


FAMILIES: dict[str, Handler] = {
    "coverage": _coverage,
    "prices": _prices,
    "macro": _macro,
    "fundamentals": _fundamentals,
}
_ = date  # dates arrive typed inside QuestionRequest
