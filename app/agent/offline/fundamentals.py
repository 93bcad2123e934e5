"""Fundamentals: reported line items with their filing page, and ratios, differences, growth."""

from __future__ import annotations

import re
from typing import Any

from app.agent.compose import ITEM_LABELS, fmt
from app.agent.entities import COMPANY_NAMES, Entities
from app.agent.evidence import Evidence
from app.agent.intents import Intent
from app.agent.offline.base import Declined, Outcome, call
from app.agent.request import QuestionRequest
from tools.context import ToolContext


def company(ticker: str) -> str:
    """A readable company name for search queries (the ticker when none is known)."""
    names = [n for n, t in COMPANY_NAMES.items() if t == ticker]
    return max(names, key=len).title() if names else ticker


def filing_number(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """Reported line items for a fiscal year (or several), with the filing page cited."""
    ticker = e.tickers[0]
    items = ", ".join(f"'{i}'" for i in e.items)
    every = re.search(r"\b(each|every|all|per|by) (fiscal )?years?\b|\beach year\b", q, re.I)
    years = sorted(set(e.years)) or ([e.as_of.year] if e.as_of and not every else [])
    if e.period and not e.years:
        years = list(range(e.period[0].year, e.period[1].year + 1))
    year = years[0] if len(years) == 1 else None
    if len(years) > 1:
        year_filter = f" AND fiscal_year IN ({', '.join(map(str, years))})"
        latest = ""
    else:
        year_filter = f" AND fiscal_year = {year}" if year else ""
        latest = "" if every else " QUALIFY fiscal_year = max(fiscal_year) OVER ()"
    sql = (
        "SELECT ticker, fiscal_year, period_end, filing_date, item, value, unit, source_doc, "
        f"source_page FROM fundamentals WHERE ticker = '{ticker}' AND item IN ({items})"
        f"{year_filter}{latest} ORDER BY fiscal_year, item"
    )
    result = call(ctx, ev, "query_features", {"sql": sql})
    if not result["rows"]:
        when = f" for fiscal {year}" if year else ""
        raise Declined(
            f"The fundamentals table holds no {', '.join(ITEM_LABELS[i] for i in e.items)} for "
            f"{ticker}{when}."
        )
    rows = [dict(zip(result["columns"], r, strict=True)) for r in result["rows"]]
    fy = rows[-1]["fiscal_year"]
    words = " ".join(dict.fromkeys(ITEM_LABELS[r["item"]] for r in rows))
    found = call(
        ctx,
        ev,
        "search_documents",
        {"query": f"{company(ticker)} {words} {fy}", "issuer": ticker, "k": 5},
    )
    numbered = ev.numbered(found["passages"])
    if len({r["fiscal_year"] for r in rows}) > 1:
        return _filing_years(ticker, rows, numbered), None
    parts = []
    for r in rows:
        unit = "int" if r["unit"].startswith("millions of shares") else "USD millions"
        shown = fmt(r["value"], unit) + (" million shares" if unit == "int" else "")
        marker = _marker_for(r, numbered)
        parts.append(
            f"{ITEM_LABELS[r['item']]} {shown}{marker} (source {r['source_doc']}, page "
            f"{r['source_page']})"
        )
    return (
        f"{ticker} for fiscal {fy} (period ended {rows[0]['period_end']}, filed "
        f"{rows[0]['filing_date']}): " + "; ".join(parts) + "."
    ), None


def _filing_years(ticker: str, rows: list[dict[str, Any]], numbered: list[dict[str, Any]]) -> str:
    """Several fiscal years of the same items, oldest first, each with its source."""
    parts = []
    for r in rows:
        unit = "int" if r["unit"].startswith("millions of shares") else "USD millions"
        shown = fmt(r["value"], unit) + (" million shares" if unit == "int" else "")
        parts.append(
            f"fiscal {r['fiscal_year']} (period ended {r['period_end']}): "
            f"{ITEM_LABELS[r['item']]} {shown}{_marker_for(r, numbered)} (source "
            f"{r['source_doc']}, page {r['source_page']})"
        )
    return f"{ticker}: " + "; ".join(parts) + "."


def _marker_for(row: dict[str, Any], passages: list[dict[str, Any]]) -> str:
    """A citation [n] to a retrieved passage that shows this figure, if one does."""
    value = float(row["value"])
    forms = {f"{abs(value):,.0f}", f"{abs(value):.0f}", f"{abs(value):,.1f}"}
    for p in passages:
        text = p["text"]
        if any(re.search(rf"(?<![\d,.]){re.escape(f)}(?![\d,])", text) for f in forms):
            return f" [{p['n']}]"
    return ""


def fundamentals_arithmetic(
    req: QuestionRequest, ctx: ToolContext, ev: Evidence, names: dict
) -> Outcome:
    """A ratio, difference or growth of line items per fiscal year."""
    assert req.arithmetic is not None
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
