"""The approved PD model: issuers (Merton), stored loans and described applicants."""

from __future__ import annotations

from typing import Any

from app.agent.compose import fmt
from app.agent.entities import Entities
from app.agent.evidence import Evidence
from app.agent.intents import Intent
from app.agent.offline.base import call, domain_note
from tools.context import ToolContext

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


def pd_issuer(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """An issuer's probability of default (Merton) with its drivers."""
    args: dict[str, Any] = {"issuer": e.tickers[0]}
    if e.as_of:
        args["as_of"] = e.as_of.isoformat()
    r = call(ctx, ev, "default_probability", args)
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
    return text + domain_note(r), None


def pd_loan(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """A stored loan's probability of default with its main drivers."""
    r = call(ctx, ev, "default_probability", {"loan_id": e.loan_id})
    return _loan_text(f"Loan {e.loan_id}", r), None


def pd_profile(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """A described applicant's probability of default; unstated fields typical, stated."""
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
    r = call(ctx, ev, "default_probability", {"loan": loan})
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
    return text + domain_note(r)
