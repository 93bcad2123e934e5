"""Offline plans for documents, filing figures, macro series, model status and "why" follow-ups.

Registered into ``planner.HANDLERS`` on import (``app.agent.core`` imports this module).
"""

from __future__ import annotations

import re
from typing import Any

from app.agent import compose
from app.agent.compose import ITEM_LABELS, fmt, label
from app.agent.entities import COMPANY_NAMES, Entities
from app.agent.evidence import Evidence
from app.agent.intents import Intent
from app.agent.planner import Declined, _call, register
from tools.context import ToolContext

NOT_FOUND = "Not found in the documents you may see"
_MACRO_LABELS = {
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


def company(ticker: str) -> str:
    """A readable company name for search queries (the ticker when none is known)."""
    names = [n for n, t in COMPANY_NAMES.items() if t == ticker]
    return max(names, key=len).title() if names else ticker


def _filing_number(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
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
    result = _call(ctx, ev, "query_features", {"sql": sql})
    if not result["rows"]:
        when = f" for fiscal {year}" if year else ""
        raise Declined(
            f"The fundamentals table holds no {', '.join(ITEM_LABELS[i] for i in e.items)} for "
            f"{ticker}{when}."
        )
    rows = [dict(zip(result["columns"], r, strict=True)) for r in result["rows"]]
    fy = rows[-1]["fiscal_year"]
    words = " ".join(dict.fromkeys(ITEM_LABELS[r["item"]] for r in rows))
    found = _call(
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


def _filing_topic(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    args: dict[str, Any] = {"query": q[:500], "k": 5}
    if e.tickers:
        args["issuer"] = e.tickers[0]
    found = _call(ctx, ev, "search_documents", args)
    if not found["passages"] and e.tickers:
        # Another issuer's documents would answer a different question: say so instead.
        raise Declined(
            f"{NOT_FOUND}: no document about {e.tickers[0]} is among those you may see, so I "
            "can't answer this from documents."
        )
    if not found["passages"]:
        raise Declined(f"{NOT_FOUND}, so I can't answer it.")
    bullets = compose.extractive_passages(q, ev)
    words = compose.keywords(q)
    relevant = any(w in p["text"].lower() for p in ev.passages for w in words) if words else True
    if not relevant or not bullets:
        raise Declined(f"{NOT_FOUND}: the passages retrieved do not address this question.")
    return "From the documents you may see:\n" + "\n".join(bullets), None


def _macro(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    series = e.macro[0]
    if e.period:
        start, end = e.period
        sql = (
            f"SELECT series, min(date) AS first_date, max(date) AS last_date, avg(value) AS "
            f"mean, min(value) AS low, max(value) AS high, count(*) AS n, any_value(unit) AS unit "
            f"FROM macro WHERE series = '{series}' AND date BETWEEN DATE '{start}' AND "
            f"DATE '{end}' GROUP BY series"
        )
        result = _call(ctx, ev, "query_features", {"sql": sql})
        if not result["rows"]:
            raise Declined(f"No {series} observations fall in {start} to {end}.")
        r = dict(zip(result["columns"], result["rows"][0], strict=True))
        return (
            f"{_MACRO_LABELS.get(series, series)} ({r['unit']}) from {r['first_date']} to "
            f"{r['last_date']}: mean {fmt(r['mean'])}, low {fmt(r['low'])}, high "
            f"{fmt(r['high'])} over {r['n']} observations (macro series {series})."
        ), None
    cutoff = f" AND date <= DATE '{e.as_of}'" if e.as_of else ""
    sql = (
        f"SELECT series, date, value, unit, frequency FROM macro WHERE series = '{series}'"
        f"{cutoff} ORDER BY date DESC LIMIT 1"
    )
    result = _call(ctx, ev, "query_features", {"sql": sql})
    if not result["rows"]:
        raise Declined(
            f"No {series} observation is known on or before {e.as_of}: the series starts later."
        )
    _, day, value, unit, freq = result["rows"][0]
    note = ""
    if e.as_of and day != e.as_of.isoformat():
        note = f" (the latest observation on or before {e.as_of}; the series is {freq})"
    name = _MACRO_LABELS.get(series, series)
    return (
        f"{name[0].upper() + name[1:]} was {fmt(value)} ({unit}) on {day}{note}, "
        f"macro series {series}."
    ), None


def _model_info(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    result = _call(ctx, ev, "describe_data", {"topic": "models"})
    models = result["models"]
    low = q.lower()
    wanted = [n for n in ("risk", "pd") if n in low or (n == "pd" and "credit" in low)]
    rows = [m for m in models if not wanted or m["name"] in wanted]
    approved = [m for m in rows if m["status"] == "approved"]
    if not rows:
        raise Declined("No model is registered yet.")
    lines = []
    for m in approved:
        lines.append(
            f"{m['name']}@{m['version']} is in use: approved by {m['approved_by']} at "
            f"{m['approved_at']}, registered by {m['registered_by']}; validation "
            f"{m.get('validation') or 'not recorded'}."
        )
    others = [m for m in rows if m["status"] != "approved"]
    if others:
        lines.append(
            "Other versions: "
            + "; ".join(f"{m['name']}@{m['version']} {m['status']}" for m in others)
            + "."
        )
    if not approved:
        lines.insert(0, "No version is approved, so none is served.")
    return " ".join(lines), None


def _followup(
    q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, history: list, *_: Any
):  # noqa: ANN202, E501
    previous = history[-1]
    calls = [c for c in previous.get("tool_calls", []) if c.get("tool")]
    if not calls:
        raise Declined(
            "The previous answer used no tool, so there is nothing further behind it to explain."
        )
    lines = [f'The previous answer ("{previous.get("question", "")}") rests on:']
    for c in calls[:4]:
        args = {k: v for k, v in (c.get("args") or {}).items() if k != "groups"}
        r = _call(ctx, ev, c["tool"], args)
        lines.append(_explain(c["tool"], r))
    return "\n".join(lines), None


def _explain(tool: str, r: dict[str, Any]) -> str:
    if tool == "default_probability":
        drivers = "; ".join(
            f"{d.get('input') or d.get('field')} = "
            + (fmt(d["value"]) if isinstance(d.get("value"), int | float) else str(d.get("value")))
            for d in r.get("explanation", [])[:5]
        )
        return f"- {r.get('method')} ({r['model']}); drivers: {drivers}. {r['horizon_scaling']}"
    if tool == "risk_metrics":
        w = r["window"]
        return (
            f"- {r['model']}: historical simulation over {w['days']:,} daily returns from "
            f"{w['start']} to {w['end']} at {r['confidence'] * 100:g}% confidence; "
            f"{r['horizon_scaling']}"
        )
    if tool in ("get_features", "get_feature_history"):
        values = r.get("values") or []
        feats = sorted(
            {v["feature"] for v in values} | ({r["feature"]} if "feature" in r else set())
        )
        return (
            "- feature store values (point in time, never computed from later data): "
            + "; ".join(f"{f}: {label(f)}" for f in feats)
        )
    if tool == "query_features":
        return f"- a read-only SQL query over the warehouse: {r['sql']}"
    if tool == "search_documents":
        return "- passages from: " + "; ".join(
            f"{p['doc_name']} p. {p['page_start']}" for p in r.get("passages", [])[:5]
        )
    return f"- {tool}"


register("filing_number", _filing_number)
register("filing_topic", _filing_topic)
register("macro", _macro)
register("model_info", _model_info)
register("followup", _followup)
