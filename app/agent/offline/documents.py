"""What the documents the user may see say, quoted sentence by sentence with citations."""

from __future__ import annotations

from typing import Any

from app.agent import compose
from app.agent.entities import Entities
from app.agent.evidence import Evidence
from app.agent.intents import Intent
from app.agent.offline.base import Declined, call
from tools.context import ToolContext

NOT_FOUND = "Not found in the documents you may see"


def filing_topic(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """What the documents the user may see say about the question, quoted with [n]."""
    args: dict[str, Any] = {"query": q[:500], "k": 5}
    if e.tickers:
        args["issuer"] = e.tickers[0]
    found = call(ctx, ev, "search_documents", args)
    if not found["passages"] and e.tickers:
        # Another issuer's documents would answer a different question: say so instead.
        raise Declined(
            f"{NOT_FOUND}: no document about {e.tickers[0]} is among those you may see, so I "
            "can't answer this from documents."
        )
    if not found["passages"]:
        raise Declined(f"{NOT_FOUND}, so I can't answer it.")
    bullets = compose.extractive_passages(q, ev)
    words = compose.keywords(q)
    relevant = any(w in p["text"].lower() for p in ev.passages for w in words) if words else True
    if not relevant or not bullets:
        raise Declined(f"{NOT_FOUND}: the passages retrieved do not address this question.")
    return "From the documents you may see:\n" + "\n".join(bullets), None
