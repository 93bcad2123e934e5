"""The loan book: default rates, counts and averages of the loans table, filtered or grouped."""

from __future__ import annotations

import re
from typing import Any

from app.agent.compose import fmt
from app.agent.evidence import Evidence
from app.agent.offline.base import Declined, Outcome, call
from app.agent.offline.credit import PURPOSES
from app.agent.request import QuestionRequest
from tools.context import ToolContext

LOAN_BOOK = re.compile(r"\bloans?\b|\bloan book\b|\bborrowers\b|\bcredit amount", re.I)
_MEASURES = [
    (r"default(ed)? rate|share .{0,40}default|defaulted|\bdefault", "default_rate"),
    (r"(average|mean|typical) (loan )?(duration|term|length)", "mean_duration_months"),
    (r"total (credit )?amount|total lent|sum of", "total_credit_amount"),
    (
        r"(average|mean|typical) (credit )?amount|average (loan )?size|average loan",
        "mean_credit_amount",
    ),
    (r"how many|number of|count", "count"),
]
_GROUPS = {"purpose": r"purpose", "housing": r"housing", "job": r"\bjob\b|occupation"}


def loan_statistics(req: QuestionRequest, ctx: ToolContext, ev: Evidence, names: dict) -> Outcome:
    """A statistic of the loan book over the loans the question describes."""
    low = req.question.lower()
    measure = next((m for pattern, m in _MEASURES if re.search(pattern, low)), None)
    if measure is None:
        raise Declined("I could not tell which loan-book figure you want (a default rate, a count, "
                       "an average credit amount or duration).")  # fmt: skip
    args: dict[str, Any] = {"measure": measure}
    longer = re.search(r"(longer|more|over|above|greater) than (\d{1,3}) months?", low)
    shorter = re.search(r"(shorter|less|under|below|fewer) than (\d{1,3}) months?", low)
    if longer:
        args["min_duration_months"] = int(longer.group(2))
    if shorter:
        args["max_duration_months"] = int(shorter.group(2))
    purpose = next((p for word, p in PURPOSES.items() if re.search(rf"\b{word}s?\b", low)), None)
    group = next((g for g, pattern in _GROUPS.items() if re.search(pattern, low)), None)
    if group == "purpose" and purpose is None or group and re.search(rf"\bby {group}\b|which", low):
        args["group_by"] = group
        args["order"] = "lowest" if re.search(r"\blowest|\bleast|\bsmallest", low) else "highest"
        if re.search(r"\bwhich\b", low) and not re.search(r"\btop \d|\bwhich \d", low):
            args["limit"] = 1
    elif purpose:
        args["purpose"] = purpose
    r = call(ctx, ev, "loan_book", args)
    what = _WORDS[measure]
    words = {"purpose": "purpose {}", "min_duration_months": "longer than {} months",
             "max_duration_months": "shorter than {} months"}  # fmt: skip
    filters = "; ".join(words[k].format(v) for k, v in r["filters"].items())
    scope = f" ({filters})" if filters else ""
    if "groups" in r:
        items = "; ".join(f"{g['group']} {_shown(measure, g['value'])} ({g['loans']:,} loans)"
                          for g in r["groups"])  # fmt: skip
        text = f"Loan book by {r['group_by']}, {what}{scope}, {args['order']} first: {items}."
    else:
        text = f"Loan book{scope}: {what} {_shown(measure, r['value'])} over {r['loans']:,} loans."
    consumed = {"entity", "metric", "aggregation", "ranking", "comparison", "lookback"}
    return Outcome(text, None, consumed, f"{what} of the loans table{scope}")


_WORDS = {
    "default_rate": "default rate",
    "count": "number of loans",
    "mean_credit_amount": "average credit amount",
    "mean_duration_months": "average duration",
    "total_credit_amount": "total credit amount",
}


def _shown(measure: str, value: float) -> str:
    if measure == "default_rate":
        return fmt(value, "pct")
    if measure == "count":
        return f"{value:,.0f}"
    if measure in ("mean_credit_amount", "total_credit_amount"):
        return f"{value:,.2f} DM"
    return f"{value:,.2f} (months)"
