"""Which plan answers a typed request: an executor plan over the history tools, or an intent."""

from __future__ import annotations

import re

from app.agent.offline.loans import LOAN_BOOK
from app.agent.request import QuestionRequest

# Stored rolling features the legacy plans answer; a window or lookback makes them the wrong number.
STORED_WINDOW_WORDS = ("20-day", "20 day", "60-day", "60 day", "252-day", "252 day", "ewma", "20d",
                       "60d", "rolling")  # fmt: skip


HISTORY_WORDS = ("history", "over time", "trend", "chart", "plot", "evolution", "time series",
                 "daily values", "show")  # fmt: skip


DOCUMENT_WORDS = re.compile(
    r"\b(say|says|said|mention\w*|discuss\w*|disclos\w*|describe\w*|according to|10-?k|10-?q"
    r"|filing|annual report|memo|note|document\w*|risk factors)\b",
    re.I,
)


_STORED = re.compile(
    r"\b(20|60|252)[- ](trading[- ])?(day|session)s?\b.{0,30}\b(vol|beta|draw)|riskmetrics"
    r"|lambda 0\.94",
    re.I,
)


_EVER = re.compile(r"\bever\b|all[- ]time|in (our|the) data|on record|whole history", re.I)


_COVERAGE = re.compile(
    r"how many (trading )?days|first and last (date|day)|(date|data) range|how far back"
    r"|earliest and latest|since when|which dates|what dates|first (date|day) of|last (date|day) "
    r"of|start and end date",
    re.I,
)


def route(req: QuestionRequest) -> str | None:
    """The executor family that must answer ``req``, or None for the intent plans."""
    low = req.question.lower()
    if LOAN_BOOK.search(low) and req.loan_id is None and not (req.tickers or req.portfolio):
        return "loans"
    if _COVERAGE.search(low) and (req.tickers or req.macro_series) and not req.items:
        return "coverage"
    if DOCUMENT_WORDS.search(low) and req.arithmetic is None:
        return None  # what the documents say: the search plan answers with citations
    names_stored = any(w in low for w in STORED_WINDOW_WORDS) or bool(_STORED.search(low))
    if req.macro_series and not req.tickers:
        if req.arithmetic is not None or req.window is not None or req.as_of is not None:
            return "macro"
        if req.aggregation in ("max", "min") or req.metric in ("high", "low"):
            return "macro"  # "the highest ever": over the whole series
        return None
    if req.arithmetic is not None and req.arithmetic.op in ("ratio", "minus", "growth", "change"):
        if req.items and req.tickers and len(req.items) >= 1:
            return "fundamentals"
    if req.items:
        return None
    if req.metric is None:
        return None
    if req.metric in ("volume", "dollar_volume", "correlation") and "adv" not in low:
        return "prices" if (req.tickers or req.ranking) else None
    if names_stored:
        return None
    has_window = req.window is not None or req.lookback_days is not None
    if req.metric == "price" and req.arithmetic is not None and has_window:
        return "prices"
    if req.metric == "price":
        if any(w in low for w in HISTORY_WORDS):
            return None
        if req.as_of is not None or (has_window and req.aggregation) or req.ranking:
            return "prices"
        return None
    if req.metric in ("worst_day", "best_day") and req.tickers:
        return "prices"
    if req.metric in ("high", "low") and (has_window or req.as_of or _EVER.search(low)):
        return "prices"
    if has_window and not any(w in low for w in HISTORY_WORDS[:-1]):
        return "prices"
    if req.metric == "return" and req.tickers:
        return "prices"
    return None
