"""What every offline plan shares: the outcome, the decline, one logged tool call, plain words.

Tool errors are written for a model ("...do not try other queries for it; leave it out..."); the
person asking reads ``plain_error`` instead: what was refused or missing, and what they can do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.agent.evidence import Evidence
from app.agent.toolbox import execute
from tools.context import ToolContext


@dataclass
class Outcome:
    """What a plan produced: text, an optional chart, the constraints used, its interpretation."""

    text: str
    chart: dict[str, Any] | None = None
    consumed: set[str] = field(default_factory=set)
    interpretation: str = ""


class Declined(Exception):
    """The planner cannot answer; the message says why, plainly."""


def plain_error(result: dict[str, Any]) -> str:
    """A tool error in words for the analyst (never the hint written for a model)."""
    error = str(result.get("error") or "the tool failed")
    if result.get("barrier"):
        what = (
            error.split(" is restricted", 1)[0]
            if " is restricted" in error
            else ("part of what you asked about")
        )
        return (
            f"I can't answer this: {what} is on the restricted list for you (information "
            "barrier), so no data about it can be shown. Compliance can tell you whether you "
            "should have access."
        )
    hint = str(result.get("hint") or "")
    # Hints that tell a model how to retry are not advice for a person.
    if hint and not re.search(
        r"\b(try|query|queries|sql|argument|schema|tool|NOT IN)\b", hint, re.I
    ):
        return f"I can't answer this: {error} ({hint})."
    return f"I can't answer this: {error}."


def call(ctx: ToolContext, ev: Evidence, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one logged tool call; a tool error becomes a plain-words ``Declined``."""
    result = execute(ctx, ev, tool, args)
    if isinstance(result, dict) and "error" in result:
        raise Declined(plain_error(result))
    return result


SCOPE = (
    "I can answer from Sightline's data: prices and market features of the loaded tickers, "
    "issuer fundamentals, macro series, the demo portfolio, the loans table, the approved risk "
    "and PD models, and the research documents you may see."
)


def iso(d: date | None) -> str | None:
    """A date as ISO text (None stays None)."""
    return d.isoformat() if d else None


def domain_note(r: dict[str, Any]) -> str:
    """The model-domain warnings of a model tool result, as one sentence (or "")."""
    flags = r.get("out_of_domain") or []
    if not flags:
        return ""
    return " Warning: " + " ".join(str(f.get("message", f)) for f in flags)
