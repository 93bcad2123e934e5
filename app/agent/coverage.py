"""The coverage check: every constraint parsed from the question must be consumed by the plan.

Grounding proves the numbers are real; coverage proves they answer the question asked. A
constraint the plan did not use (a window answered with a rolling feature, a quarter answered with
another quarter, a metric the data does not hold) turns the answer into a decline that names it.
``check_tool_args`` holds an LLM's tool arguments to the same parsed constraints.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.agent.request import Constraint, QuestionRequest

EVERYTHING = frozenset({"entity", "metric", "date", "window", "period", "aggregation", "ranking",
                        "arithmetic", "comparison", "lookback", "fiscal_year"})  # fmt: skip
# What the intent plans (stored features, risk and PD models, documents) consume.
INTENT_CONSUMES: dict[str, frozenset[str]] = {
    "latest": frozenset({"entity", "metric", "date"}),
    "beta_drawdown": frozenset({"entity", "metric", "date"}),
    "compare": frozenset({"entity", "metric", "date", "comparison"}),
    "ranking": frozenset({"entity", "metric", "date", "ranking", "aggregation", "comparison"}),
    "history": frozenset({"entity", "metric", "date", "window", "period", "aggregation"}),
    "filing_number": frozenset(
        {"entity", "metric", "date", "window", "period", "fiscal_year", "comparison"}
    ),
    "macro": frozenset({"entity", "metric", "date", "window", "period", "aggregation"}),
}
# Plans whose tools take the question's own words (documents) or fixed model inputs.
LENIENT = frozenset({"filing_topic", "var_es", "exposure", "vol_regime", "pd_issuer", "pd_loan",
                     "pd_profile", "model_info", "followup"})  # fmt: skip


# Plans answered by the risk/PD models or the registry: the executor never takes these over.
MODEL_INTENTS = LENIENT - {"filing_topic"}


_FEATURE_FAMILY = {
    "volatility": ("realized_vol", "ewma_vol"),
    "max_drawdown": ("max_drawdown",),
    "beta": ("beta",),
    "return": ("log_return",),
    "dollar_volume": ("adv_usd",),
}


def consumed_by(intent: str, req: QuestionRequest) -> set[str]:
    """The constraint kinds an intent plan consumes for this request.

    A stored rolling feature consumes a stated window length only when it is that length
    ("60 trading day volatility" is not the 20-day feature); annual fundamentals consume a
    period only when it is a year (a quarter's revenue is not the fiscal year's).
    """
    kinds = set(INTENT_CONSUMES.get(intent, ()))
    family = _FEATURE_FAMILY.get(req.metric or "")
    if family and req.features and not any(f.startswith(family) for f in req.features):
        kinds.discard("metric")  # "standard deviation of returns" is not the 1-day return
    if req.lookback_days and any(f.endswith(f"_{req.lookback_days}d") for f in req.features):
        kinds.add("lookback")
    if intent == "filing_number" and req.window is not None and req.window.granularity != "year":
        kinds -= {"window", "period"}
    if intent in LENIENT:
        kinds |= EVERYTHING
    return kinds


def uncovered(
    req: QuestionRequest, consumed: set[str] | frozenset[str], *, lenient: bool = False
) -> list[Constraint]:
    """Constraints of ``req`` the plan did not honour (empty: the answer covers the question)."""
    left = []
    for c in req.constraints:
        if c.kind == "personal_info":
            left.append(c)
        elif not c.understood:
            if not (lenient and c.kind == "metric"):
                left.append(c)
        elif not lenient and c.kind not in consumed:
            left.append(c)
    return left


_KIND_WORDS = {
    "entity": "the name", "metric": "the quantity", "date": "the date", "window": "the period",
    "period": "the period", "aggregation": "the aggregation", "ranking": "the ranking",
    "arithmetic": "the arithmetic", "comparison": "the comparison", "lookback": "the window",
    "fiscal_year": "the fiscal year", "personal_info": "personal information",
}  # fmt: skip


def decline_text(missing: list[Constraint]) -> str:
    """A decline that says exactly what was not understood or not honoured."""
    parts = []
    for c in missing:
        what = _KIND_WORDS.get(c.kind, c.kind)
        if c.understood:
            parts.append(f"{what} '{c.text}' (I could not apply it to the data I hold)")
        else:
            parts.append(f"{what} '{c.text}' (not something the data I hold covers)")
    return (
        "I can't answer this as asked, so I give no figure rather than one for a different "
        "question. Not understood or not honoured: " + "; ".join(dict.fromkeys(parts)) + ". "
        "Rephrase with a loaded ticker, a stored quantity and a date or period the data covers."
    )


def check_tool_args(req: QuestionRequest, tool: str, args: dict[str, Any]) -> list[str]:
    """Mismatches between one tool call's arguments and the constraints parsed from the question.

    Used on the LLM path: a call for another ticker, another day or another window than the
    question names is flagged (in the answer's warnings and the trail), never silently answered.
    """
    problems: list[str] = []
    named = {t.upper() for t in req.tickers}
    called = {str(t).upper() for t in _tickers_of(tool, args)}
    if named and called and not called & named and not req.ranking:
        problems.append(
            f"{tool} was called for {', '.join(sorted(called))}, the question names "
            f"{', '.join(sorted(named))}"
        )
    day = _date(args.get("as_of") or (args.get("end") if not args.get("start") else None))
    if req.as_of and day and day != req.as_of and req.window is None:
        problems.append(f"{tool} used the date {day}, the question asks about {req.as_of}")
    start, end = _date(args.get("start")), _date(args.get("end"))
    if req.window and (start or end):
        if (start and start != req.window.start) or (end and end != req.window.end):
            problems.append(
                f"{tool} used the window {start} to {end}, the question asks about "
                f"{req.window.start} to {req.window.end} ({req.window.label})"
            )
    if (
        req.window
        and tool == "get_features"
        and req.metric in ("max_drawdown", "return", "volatility", "beta")
    ):
        problems.append(
            f"{tool} returns a stored rolling value, the question asks for "
            f"{req.metric} over {req.window.label}"
        )
    return problems


def _tickers_of(tool: str, args: dict[str, Any]) -> list[str]:
    for key in ("tickers", "entities"):
        if isinstance(args.get(key), list):
            return [t for t in args[key] if t != "US"]
    for key in ("ticker", "entity", "issuer"):
        if args.get(key) and args[key] != "US":
            return [args[key]]
    return []


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
