"""The approved risk model: VaR and expected shortfall, exposure by position, volatility regime."""

from __future__ import annotations

from typing import Any

from app.agent import compose
from app.agent.compose import fmt
from app.agent.entities import Entities
from app.agent.evidence import Evidence
from app.agent.intents import Intent
from app.agent.offline.base import call, domain_note
from tools.context import ToolContext


def _risk_args(e: Entities, *, portfolio: bool) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if portfolio or not e.tickers:
        args["portfolio"] = e.portfolio or "DEMO"
    else:
        args["ticker"] = e.tickers[0]
    if e.confidence is not None:
        args["confidence"] = e.confidence
    if e.horizon_days is not None:
        args["horizon_days"] = e.horizon_days
    if e.as_of:
        args["as_of"] = e.as_of.isoformat()
    return args


def var_es(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """VaR and expected shortfall of a ticker or portfolio by the approved risk model."""
    wants_portfolio = bool(e.portfolio) or "portfolio" in q.lower() or not e.tickers
    r = call(ctx, ev, "risk_metrics", _risk_args(e, portfolio=wants_portfolio))
    v = r["values"]
    target = r["target"].get("ticker") or f"portfolio {r['target'].get('portfolio')}"
    conf = f"{r['confidence'] * 100:g}%"
    text = (
        f"{target}: at {conf} confidence over {r['horizon_days']} trading day(s), historical "
        f"VaR is {fmt(v['var_historical'], 'pct2')} and expected shortfall "
        f"{fmt(v['es_historical'], 'pct2')} of value as of {r['as_of']} "
        f"({r['window']['days']:,} days from {r['window']['start']})."
    )
    if "var_historical_usd" in v:
        text += (
            f" In dollars: VaR {fmt(v['var_historical_usd'], 'usd')}, ES "
            f"{fmt(v['es_historical_usd'], 'usd')} on a market value of "
            f"{fmt(v['market_value_usd'], 'usd')}."
        )
    text += (
        f" Parametric VaR: normal {fmt(v['var_normal'], 'pct2')}, Student-t "
        f"{fmt(v['var_student_t'], 'pct2')}. {r['horizon_scaling']} Model {r['model']}."
    )
    return text + domain_note(r), None


def exposure(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """A portfolio's exposure by position and its largest VaR contributor."""
    r = call(ctx, ev, "risk_metrics", _risk_args(e, portfolio=True))
    rows = sorted(r["exposure"], key=lambda x: -abs(x.get("market_value_usd", x["weight"])))
    parts = [
        f"{x['ticker']} {fmt(x['weight'], 'pct')}"
        + (f" ({fmt(x['market_value_usd'], 'usd')})" if "market_value_usd" in x else "")
        for x in rows
    ]
    total = r["values"].get("market_value_usd")
    text = (
        f"Portfolio {r['target'].get('portfolio')} as of {r['as_of']}"
        + (f", market value {fmt(total, 'usd')}" if total else "")
        + f": exposure by position (weight, market value), largest first: {'; '.join(parts)}."
    )
    largest = max(rows, key=lambda x: x["component_var_normal"])
    text += (
        f" The largest contributor to normal VaR at {r['confidence'] * 100:g}% is "
        f"{largest['ticker']} ({fmt(largest['component_var_normal'], 'pct2')} of value). "
        f"Model {r['model']}."
    )
    chart = compose.bar_chart(
        "exposure by position", [(x["ticker"], x["weight"]) for x in rows], "weight"
    )
    return text + domain_note(r), chart


def vol_regime(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """EWMA volatility against the long-run level: elevated, normal or calm."""
    r = call(ctx, ev, "risk_metrics", _risk_args(e, portfolio=not e.tickers))
    v = r["values"]
    ewma, long_run = v["volatility_ewma_annualized"], v["volatility_sample_annualized"]
    ratio = ewma / long_run if long_run else 1.0
    regime = "elevated" if ratio > 1.25 else "calm" if ratio < 0.8 else "normal"
    target = r["target"].get("ticker") or f"portfolio {r['target'].get('portfolio')}"
    text = (
        f"{target}'s volatility regime as of {r['as_of']} is {regime}: EWMA volatility "
        f"(lambda {v['ewma_lambda']:g}) is {fmt(ewma, 'pct')} annualized against a long-run "
        f"(sample, {r['window']['days']:,} days) volatility of {fmt(long_run, 'pct')}. "
        "Elevated means EWMA more than a quarter above the long-run level, calm more than a "
        "fifth below it. "
        f"Model {r['model']}."
    )
    return text, None
