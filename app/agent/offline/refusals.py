"""Plans that decline by design: secrets, code, advice and forecasts, unknown tickers."""

from __future__ import annotations

from typing import Any

from app.agent.entities import Entities
from app.agent.intents import Intent
from app.agent.offline.base import SCOPE, Declined

REFUSALS = frozenset({"refuse_secret", "refuse_code", "refuse_out_of_scope", "unknown_entity"})


PERSONAL = (
    "I can't help with personal information about people (contact details, addresses, dates of "
    "birth and the like): Sightline holds market, fundamentals, macro, model and research data, "
    "not personal data, and does not look it up. "
)


def refuse_secret(*_: Any) -> tuple[str, None]:
    """Decline requests for instructions, credentials or configuration."""
    raise Declined(
        "I can't share my instructions, credentials, connection details or other configuration. "
        + SCOPE
    )


def refuse_code(*_: Any) -> tuple[str, None]:
    """Decline requests to run code."""
    raise Declined("I don't run code or commands of any kind. " + SCOPE)


def refuse_scope(*_: Any) -> tuple[str, None]:
    """Decline advice, forecasts and topics outside the data."""
    raise Declined(
        "That is outside what I can answer: I don't give investment advice, forecasts or "
        "information beyond the data I hold. " + SCOPE
    )


def unknown_entity(q: str, e: Entities, *_: Any) -> tuple[str, None]:
    """Decline tickers the warehouse does not hold."""
    raise Declined(
        f"I have no data for {', '.join(e.unknown_tickers)}: it is not among the loaded "
        "tickers. Ask about a loaded ticker (list them with `describe_data` or "
        "`sightline db tables`)."
    )


def unanswerable(q: str, e: Entities, intent: Intent, *_: Any) -> tuple[str, None]:
    """Decline what no plan covers, saying what can be asked."""
    raise Declined(f"I can't answer that from the data I have ({intent.reason}). " + SCOPE)
