"""Macro series at a day, month, quarter or year, spreads and changes between them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from app.agent.compose import fmt
from app.agent.entities import Entities
from app.agent.evidence import Evidence
from app.agent.intents import Intent
from app.agent.offline.base import Declined, Outcome, call
from app.agent.request import DateWindow, QuestionRequest
from tools.context import ToolContext
from tools.macro_history import macro_range_sql, macro_window_sql, observation_for_day

MACRO_LABELS = {
    "vix": "the VIX",
    "wti": "WTI crude oil",
    "brent": "Brent crude oil",
    "unemp": "the US unemployment rate",
    "infl": "US inflation",
    "core_cpi": "US core CPI",
    "cpi": "US CPI",
    "realgdp": "US real GDP",
    "tbilrate": "the 3-month T-bill rate",
    "realint": "the US real interest rate",
    "m1": "US M1 money supply",
    "aaa": "Moody's AAA corporate yield",
    "baa": "Moody's BAA corporate yield",
    "realcons": "US real consumption",
    "realdpi": "US real disposable income",
    "realinv": "US real investment",
    "realgovt": "US real government spending",
    "pop": "US population",
}


def series_words(series: str) -> str:
    """A readable name of a macro series."""
    return MACRO_LABELS.get(series, series)


def macro_latest(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """A macro series over a day range, or its latest value (no date asked)."""
    series = e.macro[0]
    if e.period:
        start, end = e.period
        sql = (
            f"SELECT series, min(date) AS first_date, max(date) AS last_date, avg(value) AS "
            f"mean, min(value) AS low, max(value) AS high, count(*) AS n, any_value(unit) AS unit "
            f"FROM macro WHERE series = '{series}' AND date BETWEEN DATE '{start}' AND "
            f"DATE '{end}' GROUP BY series"
        )
        result = call(ctx, ev, "query_features", {"sql": sql})
        if not result["rows"]:
            raise Declined(f"No {series} observations fall in {start} to {end}.")
        r = dict(zip(result["columns"], result["rows"][0], strict=True))
        return (
            f"{MACRO_LABELS.get(series, series)} ({r['unit']}) from {r['first_date']} to "
            f"{r['last_date']}: mean {fmt(r['mean'])}, low {fmt(r['low'])}, high "
            f"{fmt(r['high'])} over {r['n']} observations (macro series {series})."
        ), None
    cutoff = f" AND date <= DATE '{e.as_of}'" if e.as_of else ""
    sql = (
        f"SELECT series, date, value, unit, frequency FROM macro WHERE series = '{series}'"
        f"{cutoff} ORDER BY date DESC LIMIT 1"
    )
    result = call(ctx, ev, "query_features", {"sql": sql})
    if not result["rows"]:
        raise Declined(
            f"No {series} observation is known on or before {e.as_of}: the series starts later."
        )
    _, day, value, unit, freq = result["rows"][0]
    note = ""
    if e.as_of and day != e.as_of.isoformat():
        note = f" (the latest observation on or before {e.as_of}; the series is {freq})"
    name = MACRO_LABELS.get(series, series)
    return (
        f"{name[0].upper() + name[1:]} was {fmt(value)} ({unit}) on {day}{note}, "
        f"macro series {series}."
    ), None


def _macro_day(
    req: QuestionRequest,
    ctx: ToolContext,
    ev: Evidence,
    series: str,
    rows: list[dict[str, Any]],
    used: set[str],
) -> Outcome:
    """The observation describing the day asked, with its own date when it is not that day."""
    assert req.as_of is not None
    name = series_words(series)
    name = name[0].upper() + name[1:]
    obs = observation_for_day(rows, req.as_of)
    if obs is None:
        raise Declined(_macro_gap(ctx, ev, series, f"{req.as_of}"))
    note = ""
    if obs["date"] != req.as_of.isoformat():
        note = (
            f" (the latest observation on or before {req.as_of}; the series is daily)"
            if obs["frequency"] == "D"
            else f" (the {FREQUENCY_WORDS.get(obs['frequency'], '')} observation covering "
            f"{req.as_of})"
        )
    text = (
        f"{name} was {fmt(obs['value'])} ({obs['unit']}) on {obs['date']}{note}, macro "
        f"series {series}."
    )
    return Outcome(text, None, _macro_consumed(req, used), f"{series} observation for {req.as_of}")


def macro_period(req: QuestionRequest, ctx: ToolContext, ev: Evidence, names: dict) -> Outcome:
    """A macro series at a day, month, quarter or year, or arithmetic between two."""
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
        return _macro_day(req, ctx, ev, series, rows, used)
    if not rows:
        raise Declined(_macro_gap(ctx, ev, series, words))
    unit, freq = rows[0]["unit"], rows[0]["frequency"]
    if len(rows) == 1 and req.aggregation in (None, "mean", "max", "min"):
        r = rows[0]
        text = (
            f"{name} for {words} was {fmt(r['value'])} ({unit}), the "
            f"{FREQUENCY_WORDS.get(freq, '')} observation dated {r['date']} (macro series "
            f"{series})."
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
        f"{name} over {words} ({unit}, {first['period_count']} {FREQUENCY_WORDS.get(freq, '')} "
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
    own = own or _movement_of_change(req)
    return {"entity", *used} | ({"metric"} if own else set())


def _movement_of_change(req: QuestionRequest) -> bool:
    """'How many points did the T-bill rate move / rise': the move is the change computed."""
    if req.metric != "return" or req.arithmetic is None:
        return False
    if req.arithmetic.op not in ("change", "growth"):
        return False
    words = " ".join(c.text for c in req.constraints if c.kind == "metric" and c.understood)
    return not re.search(r"returns?|perform", words)


FREQUENCY_WORDS = {"D": "daily", "M": "monthly", "Q": "quarterly", "A": "annual"}


def _macro_gap(ctx: ToolContext, ev: Evidence, series: str, asked: str) -> str:
    r = call(ctx, ev, "query_features", {"sql": macro_range_sql(series)})
    if not r["rows"]:
        return f"No macro series {series} is loaded."
    _, first, last, freq = r["rows"][0]
    return (
        f"I have no {series} observation for {asked}: the series is "
        f"{FREQUENCY_WORDS.get(freq, freq)} and covers {first} to {last}. Ask about a date or "
        "period inside that range."
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
            _macro_consumed(req, {"arithmetic", *used}),
            f"{op} of {series[0]} over {words}: last observation of the period against its first",
        )
    text = head + ": " + "; ".join(parts) + "."
    return Outcome(
        text,
        None,
        _macro_consumed(req, {"arithmetic", "aggregation", *used}),
        f"{series[0]} {op} {series[1]} for {words}",
    )
