"""Macro series at a day, month, quarter or year, and arithmetic between series (spreads, growth).

A day is answered by the observation of the period holding it (a daily series: that day, or the
last observation within a week before, with its own date); a period outside the series is refused
with the range it covers. Every input of a derived number is returned for the trail.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

import duckdb
from pydantic import Field

from tools.errors import InsufficientData, ToolInputError
from tools.history import SLACK, OutsideData, StrictArgs, check_inside, input_value


class MacroValuesArgs(StrictArgs):
    """Macro series at a day or over a period, with arithmetic between two series."""

    series: list[str] = Field(min_length=1, max_length=2, description="e.g. ['baa', 'aaa']")
    start: date | None = Field(None, description="first day of the period")
    end: date | None = Field(None, description="last day of the period, or the day asked about")
    aggregation: Literal["value", "mean", "max", "min", "last", "first"] = Field(
        "value",
        description="value: the observation of that day/month/quarter (a period "
        "coarser than the series' frequency gives its mean); or an aggregate over the period",
    )
    arithmetic: Literal["minus", "ratio", "change", "growth"] | None = Field(
        None,
        description="minus/ratio: series[0] vs series[1]; change/growth: last vs first "
        "observation of the period for series[0]",
    )


_FREQ_WORDS = {"D": "daily", "M": "monthly", "Q": "quarterly", "A": "annual", "Y": "annual"}


def _period_of(day: date, freq: str) -> tuple[date, date]:
    """The observation period holding ``day``: its month, quarter or year (daily: the last week)."""
    import calendar

    if freq == "M":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if freq == "Q":
        m0 = 3 * ((day.month - 1) // 3) + 1
        return date(day.year, m0, 1), date(
            day.year, m0 + 2, calendar.monthrange(day.year, m0 + 2)[1]
        )
    if freq in ("A", "Y"):
        return date(day.year, 1, 1), date(day.year, 12, 31)
    return day - SLACK, day


def macro_values(con: duckdb.DuckDBPyConnection, args: MacroValuesArgs) -> dict[str, Any]:
    """Each series at the day or over the period, then the arithmetic between them."""
    if args.arithmetic in ("minus", "ratio") and len(args.series) != 2:
        raise ToolInputError(f"{args.arithmetic} needs two series", hint="give two series")
    if args.end is None:
        raise ToolInputError("give the day (end) or the period (start and end)")
    inputs: list[dict[str, Any]] = []
    values = [_macro_one(con, s, args, inputs) for s in args.series]
    out: dict[str, Any] = {
        "series": values,
        "inputs": inputs,
        "start": str(args.start) if args.start else None,
        "end": str(args.end),
    }
    if args.arithmetic == "minus":
        out["value"] = values[0]["value"] - values[1]["value"]
    elif args.arithmetic == "ratio":
        out["value"] = values[0]["value"] / values[1]["value"] if values[1]["value"] else None
    elif args.arithmetic in ("change", "growth"):
        v = values[0]
        if v["first"] is None or v["first"]["date"] == v["last"]["date"]:
            raise InsufficientData(
                "a change needs two observations in the period", hint="widen the period"
            )
        a, b = v["first"]["value"], v["last"]["value"]
        out["value"] = b - a if args.arithmetic == "change" else (b / a - 1.0 if a else None)
    else:
        out["value"] = values[0]["value"]
    out["arithmetic"] = args.arithmetic
    return out


def _macro_one(
    con: duckdb.DuckDBPyConnection, series: str, args: MacroValuesArgs, inputs: list[dict[str, Any]]
) -> dict[str, Any]:
    meta = con.execute(
        "SELECT any_value(frequency), any_value(unit), min(date), max(date) FROM macro "
        "WHERE series = ?",
        [series],
    ).fetchone()
    if meta is None or meta[0] is None:
        raise InsufficientData(f"no macro series {series}", hint="list them with describe_data")
    freq, unit, first, last = meta
    covered_from = _period_of(first, str(freq))[0] if freq != "D" else first
    check_inside(
        f"macro series {series} ({_FREQ_WORDS.get(str(freq), freq)})",
        covered_from,
        last,
        args.start,
        args.end,
    )
    base = {"series": series, "frequency": freq, "unit": unit}
    if args.start is None:  # one day: the observation of the period holding that day
        assert args.end is not None  # checked by macro_values
        return base | _macro_day(con, series, str(freq), args.end, (first, last), inputs)
    rows = con.execute(
        "SELECT date, value FROM macro WHERE series = ? AND date BETWEEN ? AND ? ORDER BY date",
        [series, args.start, args.end],
    ).fetchall()
    if not rows:
        raise OutsideData(
            f"no {series} observation between {args.start} and {args.end}",
            hint=f"the series ({freq}) covers {first} to {last}",
        )
    for d, v in rows if len(rows) <= 12 else (rows[0], rows[-1]):
        inputs.append(input_value(series, "macro", d, v, "macro"))
    numbers = [float(v) for _, v in rows]
    how = args.aggregation
    if how == "value":
        how = "value" if len(rows) == 1 else "mean"
    value = {
        "value": numbers[0],
        "mean": sum(numbers) / len(numbers),
        "max": max(numbers),
        "min": min(numbers),
        "last": numbers[-1],
        "first": numbers[0],
    }[how]
    if how == "mean" and len(rows) > 12:
        inputs.append(
            input_value(
                series, f"macro mean of {len(rows)}", f"{rows[0][0]}..{rows[-1][0]}", value, "macro"
            )
        )
    return base | {
        "value": value,
        "how": how,
        "observations": len(rows),
        "first": {"date": str(rows[0][0]), "value": numbers[0]},
        "last": {"date": str(rows[-1][0]), "value": numbers[-1]},
    }


def _macro_day(
    con: duckdb.DuckDBPyConnection,
    series: str,
    freq: str,
    day: date,
    covered: tuple[date, date],
    inputs: list[dict[str, Any]],
) -> dict[str, Any]:
    lo, hi = _period_of(day, freq)
    row = con.execute(
        "SELECT date, value FROM macro WHERE series = ? AND date BETWEEN ? AND ? "
        "ORDER BY date DESC LIMIT 1",
        [series, lo, hi],
    ).fetchone()
    if row is None:
        raise OutsideData(
            f"no {series} observation for {day}",
            hint=f"the series covers {covered[0]} to {covered[1]}",
        )
    inputs.append(input_value(series, "macro", row[0], row[1], "macro"))
    point = {"date": str(row[0]), "value": float(row[1])}
    return {"value": float(row[1]), "how": "value", "observations": 1, "first": point,
            "last": point}  # fmt: skip


def macro_window_sql(series: str, lo: date, hi: date) -> str:
    """One guarded SELECT: the series' rows in [lo, hi] with its whole covered range on each row."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", series):
        raise ToolInputError(f"{series!r} is not a macro series name")
    whole = f"FROM macro WHERE series = '{series}'"
    return (
        f"SELECT series, date, value, unit, frequency, (SELECT min(date) {whole}) AS first_date, "
        f"(SELECT max(date) {whole}) AS last_date, avg(value) OVER () AS period_mean, "
        "min(value) OVER () AS period_low, max(value) OVER () AS period_high, "
        "arg_min(date, value) OVER () AS low_date, arg_max(date, value) OVER () AS high_date, "
        "min(date) OVER () AS period_start, max(date) OVER () AS period_end, "
        "arg_max(value, date) OVER () AS period_last_value, "
        f"count(*) OVER () AS period_count {whole} "
        f"AND date BETWEEN DATE '{lo}' AND DATE '{hi}' ORDER BY date"
    )


def macro_range_sql(series: str) -> str:
    """One guarded SELECT: the range and frequency a series covers (for a decline's message)."""
    macro_window_sql(series, date(2000, 1, 1), date(2000, 1, 1))  # validates the name
    return (
        "SELECT series, min(date) AS first_date, max(date) AS last_date, any_value(frequency) "
        f"AS frequency FROM macro WHERE series = '{series}' GROUP BY series"
    )


def observation_for_day(rows: list[dict[str, Any]], day: date) -> dict[str, Any] | None:
    """The observation describing ``day``: its period's (monthly/quarterly) or, daily, the day's.

    A daily series on a day without an observation (a holiday) gives the last one within a week
    before, with its own date; nothing further back counts as that day's value.
    """
    if not rows:
        return None
    freq = str(rows[0]["frequency"])
    lo, hi = _period_of(day, freq)
    inside = [r for r in rows if lo <= date.fromisoformat(str(r["date"])) <= hi]
    if not inside:
        return None
    return inside[-1]
