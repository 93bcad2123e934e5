"""Intent classification for the offline planner: which kind of analyst question this is.

Rules over the question text and its extracted entities, checked in a fixed order (the most
specific first), so the same question always gets the same plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.agent.entities import Entities

INTENTS = (
    "refuse_secret",
    "refuse_code",
    "refuse_out_of_scope",
    "unknown_entity",
    "followup",
    "model_info",
    "pd_loan",
    "pd_profile",
    "pd_issuer",
    "exposure",
    "var_es",
    "vol_regime",
    "filing_number",
    "filing_topic",
    "macro",
    "ranking",
    "history",
    "compare",
    "beta_drawdown",
    "latest",
    "unanswerable",
)

_SECRET = re.compile(
    r"system prompt|your (instructions|prompt|rules)|connection string|password|api[ _-]?key"
    r"|secret|credential|token for|env(ironment)? var|reveal your",
    re.I,
)
_CODE = re.compile(
    r"import os|os\.system|subprocess|\bexec\(|\beval\(|run (this|the following) (code|script)"
    r"|execute (this|the following|python|shell)|rm -rf|__import__|shell command",
    re.I,
)
_OUT_OF_SCOPE = re.compile(
    r"\bshould (i|we) (buy|sell|short|invest)|\brecommend|price target|\bforecast|\bpredict"
    r"|will .{0,40}\b(rise|fall|go up|go down|close at|be worth|outperform)|\btomorrow\b"
    r"|next (week|month|quarter|year)|weather|recipe|poem|joke|football|who won|capital of"
    r"|insider|non-public|\bmnpi\b|guarantee",
    re.I,
)
_FOLLOWUP = re.compile(
    r"^\s*(why|how come|explain( that| this| it)?|what drove|what drives|how did you|where did"
    r" (that|this|it) come from|what is (that|this) based on)",
    re.I,
)
_MODEL = re.compile(
    r"\bmodels?\b.{0,40}\b(version|validat|approv|in use|production|status)"
    r"|\b(version|validation status)\b.{0,40}\bmodels?\b|which (risk|pd|credit) model",
    re.I,
)
_PD = re.compile(
    r"probability of default|default probability|\bpd\b|distance to default|default risk"
    r"|likelihood of default|chance of default|credit risk of",
    re.I,
)
_PROFILE = re.compile(r"applicant|borrower|loan profile|\bloan of\b|(\d+)[- ]month loan", re.I)
_EXPOSURE = re.compile(
    r"exposure|by position|positions|holdings|largest position|portfolio weights|breakdown", re.I
)
_VAR = re.compile(r"\bvar\b|value[- ]at[- ]risk|expected shortfall|\bes\b|\bcvar\b|tail loss", re.I)
_REGIME = re.compile(
    r"regime|long[- ]run|long[- ]term (average|vol)|elevated|\bcalm\b|turbulen|stressed", re.I
)
_FILING = re.compile(
    r"10-?k|10-?q|filing|annual report|quarterly report|report(s|ed)? |according to"
    r"|what does .{0,60}\bsay|mention|discuss|disclos|risk factors|\bmemo\b|research note"
    r"|\bnote\b|document|md&a|management'?s discussion|litigation|acquisition",
    re.I,
)
_HISTORY = re.compile(
    r"history|over time|trend|chart|plot|evolution|evolve|path|how did .{0,40} (move|change)"
    r"|time series|daily values",
    re.I,
)
_RANK = re.compile(
    r"\btop\b|\bbottom\b|highest|lowest|\brank|most volatile|least volatile|largest|smallest"
    r"|\bwhich (stock|ticker|name)s?\b",
    re.I,
)


@dataclass(frozen=True)
class Intent:
    """The intent and a short reason (logged in the record's details)."""

    name: str
    reason: str


def classify(question: str, e: Entities, *, has_history: bool) -> Intent:
    """The intent of ``question`` given its entities."""
    q = question
    if _SECRET.search(q):
        return Intent("refuse_secret", "asks for instructions, credentials or secrets")
    if _CODE.search(q):
        return Intent("refuse_code", "asks to run code")
    if _OUT_OF_SCOPE.search(q):
        return Intent("refuse_out_of_scope", "advice, forecasts or topics outside the data")
    if e.unknown_tickers and not e.tickers:
        return Intent("unknown_entity", f"unknown ticker(s) {', '.join(e.unknown_tickers)}")
    if _FOLLOWUP.search(q) and has_history and not (e.tickers or e.macro):
        return Intent("followup", "a follow-up on the previous answer")
    if _MODEL.search(q):
        return Intent("model_info", "asks about model versions or validation")
    if _PD.search(q) or (e.loan_id is not None and re.search(r"default", q, re.I)):
        if e.loan_id is not None:
            return Intent("pd_loan", f"PD of loan {e.loan_id}")
        if _PROFILE.search(q) and not e.tickers:
            return Intent("pd_profile", "PD of a described applicant")
        if e.tickers:
            return Intent("pd_issuer", f"PD of issuer {e.tickers[0]}")
        return Intent("unanswerable", "a PD question without an issuer, loan or applicant")
    if _EXPOSURE.search(q) and (e.portfolio or "portfolio" in q.lower()) and not _VAR.search(q):
        return Intent("exposure", "portfolio exposure by position")
    if _VAR.search(q):
        return Intent("var_es", "VaR/ES")
    if _REGIME.search(q) and (e.tickers or e.portfolio):
        return Intent("vol_regime", "volatility regime (EWMA vs long run)")
    if e.items and e.tickers:
        return Intent("filing_number", f"{', '.join(e.items)} from filings")
    if e.macro and not e.tickers:
        return Intent("macro", f"macro series {', '.join(e.macro)}")
    if e.features and set(e.features) <= {"credit_spread_baa_aaa", "term_spread"}:
        if e.period or _HISTORY.search(q):
            return Intent("history", "macro feature history")
        return Intent("latest", "macro feature value")
    if (e.features or e.price) and _RANK.search(q) and len(e.tickers) != 1:
        return Intent("ranking", "rank tickers by a metric")
    if (e.features or e.price) and e.tickers:
        if len(e.tickers) >= 2:
            return Intent("compare", "compare tickers on a metric")
        if e.period or _HISTORY.search(q):
            return Intent("history", "a metric over a period")
        if set(e.features) & {"beta_252d", "max_drawdown_252d"}:
            return Intent("beta_drawdown", "beta and drawdown")
        return Intent("latest", "a metric's value")
    if _FILING.search(q) or (e.tickers and not e.features):
        return Intent("filing_topic", "what the documents say")
    return Intent("unanswerable", "no ticker, metric, series or document topic recognised")
