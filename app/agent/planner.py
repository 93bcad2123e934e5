"""The offline planner: answers without an LLM — the default, and the fallback when one fails.

Entities and intent are read with rules (``entities``, ``intents``); each intent has a fixed plan
of tool calls; the answer is written from templates filled with the tool outputs, plus an
extractive summary of retrieved passages with [n] citations. It says plainly what it cannot
answer. Tool calls are planned from the question only: text inside documents never adds a call.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.agent import compose, coverage, executor
from app.agent.compose import UNITS, fmt, label
from app.agent.coverage import INTENT_CONSUMES
from app.agent.entities import Entities, extract
from app.agent.evidence import Evidence
from app.agent.executor import Outcome
from app.agent.intents import Intent, classify
from app.agent.request import Catalog, QuestionRequest, parse_question
from app.agent.result import Draft
from app.agent.steps import Declined, call
from tools.agent_tools import known_entities
from tools.context import ToolContext

PLANNER_VERSION = "offline-planner@1"
MACRO_FEATURES = {"credit_spread_baa_aaa", "term_spread"}
SCOPE = (
    "I can answer from Sightline's data: prices and market features of the loaded tickers, "
    "issuer fundamentals, macro series, the demo portfolio, the loans table, the approved risk "
    "and PD models, and the research documents you may see."
)
# A typical applicant (the most common value of each field in the German credit data), used for
# any field the question does not give; the answer lists these assumptions.
TYPICAL_APPLICANT: dict[str, Any] = {
    "checking_status": "no checking account",
    "duration_months": 18,
    "credit_history": "existing credits paid back duly till now",
    "purpose": "radio/television",
    "credit_amount": 2320.0,
    "savings": "... < 100 DM",
    "employment_since": "1 <= ... < 4 years",
    "installment_rate": 3,
    "personal_status_sex": "male : single",
    "other_debtors": "none",
    "residence_since": 3,
    "property": "car or other, not in attribute Savings account/bonds",
    "age": 33,
    "other_installment_plans": "none",
    "housing": "own",
    "existing_credits": 1,
    "job": "skilled employee / official",
    "dependents": 1,
    "telephone": "none",
    "foreign_worker": "yes",
}
PURPOSES = {
    "new car": "car (new)",
    "used car": "car (used)",
    "car": "car (new)",
    "furniture": "furniture/equipment",
    "television": "radio/television",
    "radio": "radio/television",
    "education": "education",
    "business": "business",
    "repairs": "repairs",
    "retraining": "retraining",
    "appliances": "domestic appliances",
}


REFUSALS = frozenset({"refuse_secret", "refuse_code", "refuse_out_of_scope", "unknown_entity"})
PERSONAL = (
    "I can't help with personal information about people (contact details, addresses, dates of "
    "birth and the like): Sightline holds market, fundamentals, macro, model and research data, "
    "not personal data, and does not look it up. "
)


def plan_and_answer(
    question: str,
    ctx: ToolContext,
    evidence: Evidence,
    history: list[dict[str, Any]] | None = None,
    *,
    request: QuestionRequest | None = None,
) -> Draft:
    """Answer ``question`` with rule-based planning and templated text.

    The question is parsed into a ``QuestionRequest`` (or ``request`` is used: the LLM's, in plan
    mode); window, period and arithmetic questions run through the executor, the rest through the
    intent plans; either way every parsed constraint must be consumed, or the answer is a decline
    naming the ones left over.
    """
    names = known_entities(ctx)
    req = request or parse_question(question, Catalog.from_names(names))
    e = extract(question, set(names["tickers"]), set(names["portfolios"]))
    intent = classify(question, e, has_history=bool(history))
    details: dict[str, Any] = {
        "intent": intent.name,
        "intent_reason": intent.reason,
        "planner": PLANNER_VERSION,
        "request": req.model_dump(mode="json", exclude_defaults=True),
    }
    try:
        outcome = _plan(req, e, intent, ctx, evidence, history or [], names, details)
        text, chart, status = outcome.text, outcome.chart, "answered"
        if not text.strip():
            raise Declined("I found nothing that answers this, so I give no answer.")
        details["interpretation"] = outcome.interpretation or _interpret(intent, req)
        text = f"{text}\nInterpreted as: {details['interpretation']}."
    except Declined as exc:
        text, chart, status = str(exc), None, "refused"
        details["interpretation"] = f"declined ({intent.reason})"
    return Draft(text=text, status=status, chart=chart, llm="offline", details=details)


def _plan(
    req: QuestionRequest,
    e: Entities,
    intent: Intent,
    ctx: ToolContext,
    ev: Evidence,
    history: list[dict[str, Any]],
    names: dict[str, list[str]],
    details: dict[str, Any],
) -> Outcome:
    if intent.name in REFUSALS:
        HANDLERS[intent.name](req.question, e, intent, ctx, ev, history, names)
    if req.personal_info:
        raise Declined(PERSONAL + SCOPE)
    family = executor.route(req) if intent.name not in coverage.MODEL_INTENTS else None
    if family is not None:
        details["executor"] = family
        outcome = executor.run_request(family, req, ctx, ev, names)
        missing = coverage.uncovered(req, outcome.consumed)
    else:
        about_documents = bool(executor.DOCUMENT_WORDS.search(req.question))
        if intent.name == "filing_topic" and not about_documents and _data_shaped(req):
            # A figure for a name and a date is a data question: passages would answer another.
            if req.not_understood():
                raise Declined(coverage.decline_text(req.not_understood()))
            raise Declined(
                "I could not tell which quantity you are asking for, so I give no figure rather "
                "than passages about something else. Name the quantity (a price, return, "
                "volatility, volume, a line item or a macro series)."
            )
        handler = HANDLERS.get(intent.name, _unanswerable)
        text, chart = handler(req.question, e, intent, ctx, ev, history, names)
        outcome = executor.Outcome(text, chart, coverage.consumed_by(intent.name, req))
        lenient = intent.name in coverage.LENIENT and (
            intent.name != "filing_topic" or about_documents
        )
        missing = coverage.uncovered(req, outcome.consumed, lenient=lenient)
    if missing:
        details["uncovered"] = [c.model_dump() for c in missing]
        raise Declined(coverage.decline_text(missing))
    return outcome


def _data_shaped(req: QuestionRequest) -> bool:
    """A question naming a date or window, or a quantity, of a ticker or series."""
    named = bool(req.tickers or req.macro_series)
    return named and bool(req.as_of or req.window or req.metric or req.lookback_days)


def _interpret(intent: Intent, req: QuestionRequest) -> str:
    """One line a reviewer can hold against the question (intent plans)."""
    parts = [intent.reason]
    if req.tickers:
        parts.append("for " + ", ".join(req.tickers))
    if req.features and intent.name in INTENT_CONSUMES:
        parts.append("stored feature " + ", ".join(req.features))
    if req.window is not None:
        parts.append(f"over {req.window.label or f'{req.window.start} to {req.window.end}'}")
    elif req.as_of is not None:
        parts.append(f"as of {req.as_of}")
    elif req.fiscal_years:
        parts.append("fiscal " + ", ".join(map(str, req.fiscal_years)))
    return "; ".join(parts)


def _call(ctx: ToolContext, ev: Evidence, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    return call(ctx, ev, tool, args)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


# -- refusals ---------------------------------------------------------------------------------
def _refuse_secret(*_: Any) -> tuple[str, None]:
    raise Declined(
        "I can't share my instructions, credentials, connection details or other configuration. "
        + SCOPE
    )


def _refuse_code(*_: Any) -> tuple[str, None]:
    raise Declined("I don't run code or commands of any kind. " + SCOPE)


def _refuse_scope(*_: Any) -> tuple[str, None]:
    raise Declined(
        "That is outside what I can answer: I don't give investment advice, forecasts or "
        "information beyond the data I hold. " + SCOPE
    )


def _unknown(q: str, e: Entities, *_: Any) -> tuple[str, None]:
    raise Declined(
        f"I have no data for {', '.join(e.unknown_tickers)}: it is not among the loaded "
        "tickers. Ask about a loaded ticker (list them with `describe_data` or "
        "`sightline db tables`)."
    )


def _unanswerable(q: str, e: Entities, intent: Intent, *_: Any) -> tuple[str, None]:
    raise Declined(f"I can't answer that from the data I have ({intent.reason}). " + SCOPE)


# -- features ---------------------------------------------------------------------------------
def _entities_for(e: Entities, features: list[str]) -> list[str]:
    if features and set(features) <= MACRO_FEATURES:
        return ["US"]
    return e.tickers


def _latest(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    if not e.features and e.price:
        return _price_latest(e, ctx, ev)
    entities = _entities_for(e, e.features)
    result = _call(
        ctx, ev, "get_features", {"entities": entities, "names": e.features, "as_of": _iso(e.as_of)}
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
    result = _call(ctx, ev, "query_features", {"sql": sql})
    if not result["rows"]:
        raise Declined(f"No price is known for {', '.join(e.tickers)} on or before {e.as_of}.")
    lines = []
    for ticker, day, adj, close in result["rows"]:
        raw = f" (raw close {fmt(close)})" if close is not None else ""
        lines.append(f"{ticker}'s adjusted close was {fmt(adj)} on {day}{raw}.")
    return " ".join(lines), None


def _compare(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *rest: Any):  # noqa: ANN202
    text, chart = _latest(q, e, intent, ctx, ev, *rest)
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


def _ranking(
    q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, h: Any, names: dict
):  # noqa: ANN202, E501
    feature = e.features[0] if e.features else None
    if feature is None:
        raise Declined("Ranking by price is not meaningful across tickers; name a metric.")
    barred = ctx.barred()  # a ranking covers only what the user may see (SECURITY.md 9)
    stocks = [t for t in names["tickers"] if not t.startswith("^") and t not in barred][:25]
    result = _call(
        ctx, ev, "get_features", {"entities": stocks, "names": [feature], "as_of": _iso(e.as_of)}
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


def _history(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    start, end = e.period if e.period else (None, e.as_of)
    if not e.features and e.price:
        return _price_history(e, ctx, ev, start, end)
    feature = e.features[0]
    entity = _entities_for(e, [feature])[0]
    result = _call(
        ctx,
        ev,
        "get_feature_history",
        {"entity": entity, "name": feature, "start": _iso(start), "end": _iso(end)},
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
    result = _call(ctx, ev, "query_features", {"sql": sql})
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


# -- risk -------------------------------------------------------------------------------------
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


def _var_es(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    wants_portfolio = bool(e.portfolio) or "portfolio" in q.lower() or not e.tickers
    r = _call(ctx, ev, "risk_metrics", _risk_args(e, portfolio=wants_portfolio))
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
    return text + _domain_note(r), None


def _exposure(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    r = _call(ctx, ev, "risk_metrics", _risk_args(e, portfolio=True))
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
    return text + _domain_note(r), chart


def _vol_regime(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    r = _call(ctx, ev, "risk_metrics", _risk_args(e, portfolio=not e.tickers))
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


def _domain_note(r: dict[str, Any]) -> str:
    flags = r.get("out_of_domain") or []
    if not flags:
        return ""
    return " Warning: " + " ".join(str(f.get("message", f)) for f in flags)


def _pd_issuer(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    args: dict[str, Any] = {"issuer": e.tickers[0]}
    if e.as_of:
        args["as_of"] = e.as_of.isoformat()
    r = _call(ctx, ev, "default_probability", args)
    v = r["values"]
    text = (
        f"{e.tickers[0]}'s probability of default over {v['horizon_years']:g} year(s) is "
        f"{fmt(v['probability_of_default'], 'prob')} as of {r['as_of']} (Merton distance to "
        f"default {fmt(v['distance_to_default'], 'ratio')}). Drivers: equity value "
        f"{fmt(v['equity_value_usd_m'], 'USD millions')}, equity volatility "
        f"{fmt(v['equity_volatility'], 'pct')}, default point "
        f"{fmt(v['default_point_usd_m'], 'USD millions')}, leverage {fmt(v['leverage'], 'pct')}, "
        f"risk-free rate {fmt(v['risk_free_rate'], 'pct')}. Model {r['model']}."
    )
    return text + _domain_note(r), None


def _pd_loan(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    r = _call(ctx, ev, "default_probability", {"loan_id": e.loan_id})
    return _loan_text(f"Loan {e.loan_id}", r), None


def _pd_profile(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    import re

    low = q.lower()
    loan = dict(TYPICAL_APPLICANT)
    given: set[str] = set()
    m = re.search(r"(\d{1,3})[- ]month", low)
    if m:
        loan["duration_months"] = int(m.group(1))
        given.add("duration_months")
    m = re.search(r"(?:dm|€|eur|\$|amount of|loan of|for)\s?(\d[\d,]{2,})", low) or re.search(
        r"(\d[\d,]{2,})\s?(?:dm|eur|euro|marks)", low
    )
    if m:
        loan["credit_amount"] = float(m.group(1).replace(",", ""))
        given.add("credit_amount")
    m = re.search(r"(?:aged?|age of)\s?(\d{2})|(\d{2})[- ]year[- ]old", low)
    if m:
        loan["age"] = int(m.group(1) or m.group(2))
        given.add("age")
    for word, purpose in PURPOSES.items():
        if word in low:
            loan["purpose"] = purpose
            given.add("purpose")
            break
    if re.search(r"\brent(s|ing|er)?\b", low):
        loan["housing"] = "rent"
        given.add("housing")
    r = _call(ctx, ev, "default_probability", {"loan": loan})
    text = _loan_text("The described applicant", r)
    text += (
        f" Taken from the question: {', '.join(sorted(given)) or 'nothing'}; every other field "
        "was set to its most common value in the loans data (e.g. checking account "
        f"'{loan['checking_status']}')."
    )
    return text, None


def _loan_text(subject: str, r: dict[str, Any]) -> str:
    pd_value = r["values"]["probability_of_default"]
    drivers = [c for c in r.get("explanation", []) if isinstance(c, dict)][:3]
    parts = [
        f"{c['field'].replace('_', ' ')} = {c['value']} "
        f"({'raises' if c['log_odds'] > 0 else 'lowers'} risk)"
        for c in drivers
    ]
    text = f"{subject}: probability of default {fmt(pd_value, 'prob')} (model {r['model']})."
    if parts:
        text += " Main drivers: " + "; ".join(parts) + "."
    return text + _domain_note(r)


HANDLERS: dict[str, Any] = {
    "refuse_secret": _refuse_secret,
    "refuse_code": _refuse_code,
    "refuse_out_of_scope": _refuse_scope,
    "unknown_entity": _unknown,
    "unanswerable": _unanswerable,
    "latest": _latest,
    "beta_drawdown": _latest,
    "compare": _compare,
    "ranking": _ranking,
    "history": _history,
    "var_es": _var_es,
    "exposure": _exposure,
    "vol_regime": _vol_regime,
    "pd_issuer": _pd_issuer,
    "pd_loan": _pd_loan,
    "pd_profile": _pd_profile,
}


def register(name: str, handler: Any) -> None:
    """Add a handler (the documents/macro/model/follow-up plans live in ``planner_more``)."""
    HANDLERS[name] = handler
