"""Stored features: a value at a date, comparisons, rankings across tickers, histories."""

from __future__ import annotations

from typing import Any

from app.agent import compose
from app.agent.compose import UNITS, fmt, label
from app.agent.entities import Entities
from app.agent.evidence import Evidence
from app.agent.intents import Intent
from app.agent.offline.base import Declined, call, iso
from tools.context import ToolContext

MACRO_FEATURES = {"credit_spread_baa_aaa", "term_spread"}


def _entities_for(e: Entities, features: list[str]) -> list[str]:
    if features and set(features) <= MACRO_FEATURES:
        return ["US"]
    return e.tickers


def latest(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """Stored feature values (or the adjusted close) at the question's date."""
    if not e.features and e.price:
        return _price_latest(e, ctx, ev)
    entities = _entities_for(e, e.features)
    result = call(
        ctx, ev, "get_features", {"entities": entities, "names": e.features, "as_of": iso(e.as_of)}
    )
    values = [v for v in result["values"] if v["value"] is not None]
    if not values:
        raise Declined(
            f"No {', '.join(label(f) for f in e.features)} value is known for "
            f"{', '.join(entities)}" + (f" on or before {e.as_of}." if e.as_of else ".")
        )
    lines = [
        f"{v['entity']}'s {label(v['feature'])} was {fmt(v['value'], UNITS.get(v['feature'], ''))} "
        f"as of {v['as_of']} (feature {v['feature']}, version {v['version'][:12]})."
        for v in values
    ]
    missing = [f for f in e.features if f not in {v["feature"] for v in values}]
    if missing:
        lines.append(f"No value is known for {', '.join(label(f) for f in missing)}.")
    chart = None
    if len(values) > 1 and len({v["feature"] for v in values}) == 1:
        chart = compose.bar_chart(
            label(values[0]["feature"]), [(v["entity"], v["value"]) for v in values], "value"
        )
    return " ".join(lines), chart


def _price_latest(e: Entities, ctx: ToolContext, ev: Evidence) -> tuple[str, dict | None]:
    tickers = ", ".join(f"'{t}'" for t in e.tickers)
    cutoff = f" AND date <= DATE '{e.as_of}'" if e.as_of else ""
    sql = (
        f"SELECT ticker, date, adj_close, close FROM prices WHERE ticker IN ({tickers}){cutoff} "
        "QUALIFY row_number() OVER (PARTITION BY ticker ORDER BY date DESC) = 1 ORDER BY ticker"
    )
    result = call(ctx, ev, "query_features", {"sql": sql})
    if not result["rows"]:
        raise Declined(f"No price is known for {', '.join(e.tickers)} on or before {e.as_of}.")
    lines = []
    for ticker, day, adj, close in result["rows"]:
        raw = f" (raw close {fmt(close)})" if close is not None else ""
        lines.append(f"{ticker}'s adjusted close was {fmt(adj)} on {day}{raw}.")
    return " ".join(lines), None


def compare(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *rest: Any):  # noqa: ANN202
    """The same stored feature for several tickers, with the highest and lowest named."""
    text, chart = latest(q, e, intent, ctx, ev, *rest)
    values = [v for v in ev.calls[-1].result.get("values", []) if v["value"] is not None]
    if len(values) >= 2 and len({v["feature"] for v in values}) == 1:
        top = max(values, key=lambda v: v["value"])
        low = min(values, key=lambda v: v["value"])
        unit = UNITS.get(top["feature"], "")
        text += (
            f" Highest: {top['entity']} ({fmt(top['value'], unit)}); lowest: {low['entity']} "
            f"({fmt(low['value'], unit)})."
        )
    return text, chart


def ranking(
    q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, h: Any, names: dict
):  # noqa: ANN202, E501
    """Every visible stock ranked by one stored feature at a date."""
    feature = e.features[0] if e.features else None
    if feature is None:
        raise Declined("Ranking by price is not meaningful across tickers; name a metric.")
    barred = ctx.barred()  # a ranking covers only what the user may see (SECURITY.md 9)
    stocks = [t for t in names["tickers"] if not t.startswith("^") and t not in barred][:25]
    result = call(
        ctx, ev, "get_features", {"entities": stocks, "names": [feature], "as_of": iso(e.as_of)}
    )
    values = [v for v in result["values"] if v["value"] is not None]
    if not values:
        raise Declined(f"No {label(feature)} values are known at that date.")
    n = min(e.count or 5, len(values))
    # Drawdowns are negative: the "biggest" drawdown is the most negative value.
    reverse = e.descending if feature != "max_drawdown_252d" else not e.descending
    ordered = sorted(values, key=lambda v: v["value"], reverse=reverse)[:n]
    unit = UNITS.get(feature, "")
    word = "highest" if e.descending else "lowest"
    if feature == "max_drawdown_252d":
        word = "deepest" if e.descending else "shallowest"
    items = "; ".join(
        f"{i}. {v['entity']} {fmt(v['value'], unit)} (as of {v['as_of']})"
        for i, v in enumerate(ordered, 1)
    )
    text = f"The {n} tickers with the {word} {label(feature)}: {items}."
    chart = compose.bar_chart(
        f"{word} {label(feature)}", [(v["entity"], v["value"]) for v in ordered], unit
    )
    return text, chart


def history(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """One stored feature (or the adjusted close) over a period, with a line chart."""
    start, end = e.period if e.period else (None, e.as_of)
    if not e.features and e.price:
        return _price_history(e, ctx, ev, start, end)
    feature = e.features[0]
    entity = _entities_for(e, [feature])[0]
    result = call(
        ctx,
        ev,
        "get_feature_history",
        {"entity": entity, "name": feature, "start": iso(start), "end": iso(end)},
    )
    s = result["summary"]
    if not s.get("count"):
        raise Declined(f"No {label(feature)} values are known for {entity} in that period.")
    unit = UNITS.get(feature, "")
    text = (
        f"{entity}'s {label(feature)} went from {fmt(s['first']['value'], unit)} on "
        f"{s['first']['as_of']} to {fmt(s['last']['value'], unit)} on {s['last']['as_of']} "
        f"(low {fmt(s['min'], unit)}, high {fmt(s['max'], unit)}, mean {fmt(s['mean'], unit)} "
        f"over {s['count']:,} observations; feature {feature}, version {result['version'][:12]})."
    )
    chart = compose.line_chart(f"{entity} {label(feature)}", result["points"], unit)
    return text, chart


def _price_history(e: Entities, ctx: ToolContext, ev: Evidence, start: Any, end: Any):  # noqa: ANN202
    ticker = e.tickers[0]
    bounds = "".join(
        [
            f" AND date >= DATE '{start}'" if start else "",
            f" AND date <= DATE '{end}'" if end else "",
        ]
    )
    sql = f"SELECT date, adj_close FROM prices WHERE ticker = '{ticker}'{bounds} ORDER BY date"
    result = call(ctx, ev, "query_features", {"sql": sql})
    rows = result["rows"]
    if not rows:
        raise Declined(f"No prices are known for {ticker} in that period.")
    low = min(rows, key=lambda r: r[1])
    high = max(rows, key=lambda r: r[1])
    text = (
        f"{ticker}'s adjusted close went from {fmt(rows[0][1])} on {rows[0][0]} to "
        f"{fmt(rows[-1][1])} on {rows[-1][0]} (low {fmt(low[1])} on {low[0]}, high "
        f"{fmt(high[1])} on {high[0]}; {len(rows):,} trading days)."
    )
    if result["truncated"]:
        text += " The series was cut at the row cap; narrow the period for the rest."
    return text, compose.line_chart(f"{ticker} adjusted close", rows, "USD")
