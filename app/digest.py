"""Run a research digest for a user and record it in the answer trail (kind ``digest``) first.

The items come from ``tools.digest`` (extractive, deterministic) over the documents the user's
groups may see; the record holds the request, the digest text, a citation per cited page and the
digest tool's call, and the digest is returned only once that record is durably written.
"""

from __future__ import annotations

import time
from typing import Any

from app.digest_prose import PROMPT_ID, LLMUnavailable, write_prose
from app.trail.record import AnswerRecord, Citation, Tokens, ToolCall, Versions, utc_now
from app.users import User
from tools.digest import DigestItem, digest_filings, entitled_filings


def run_digest(
    rt: Any,
    user: User,
    *,
    issuer: str | None = None,
    since: str | None = None,
    docs: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The digest ``{"id", "items", "filings", "text", "prose", ...}``, recorded before returned.

    With an LLM set (``SIGHTLINE_LLM``) the text leads with the model's sentences that pass the
    grounding check against the item each cites (``app.digest_prose``).

    Raises:
        SightlineError: no comparable filings visible to the user, or the trail write failed.
    """
    t0 = time.perf_counter()
    started = utc_now()
    args = {"issuer": issuer, "since": since, "docs": list(docs)}
    filings = entitled_filings(
        rt.documents, groups=user.groups, issuer=issuer, since=since, docs=docs
    )
    items = digest_filings(filings, issuer)
    payload = [item.as_dict() for item in items]
    prose, warnings, status, llm, tokens = _prose(rt, items)
    text = "\n".join(prose + ([""] if prose else []) + [digest_text(items)])
    call = ToolCall(
        tool="digest",
        args=args,
        result={"items": payload, "filings": [f.doc_name for f in filings]},
        started=started,
        ms=(time.perf_counter() - t0) * 1000,
    )
    record = AnswerRecord(
        kind="digest",
        user=user.name,
        role=user.role,
        status=status,
        question=_request(issuer, since, docs),
        answer=text,
        citations=_citations(items),
        tool_calls=[call],
        versions=Versions(
            llm=llm,
            prompt=PROMPT_ID if llm != "offline" else None,
            embedding=getattr(rt.documents.embedder, "version", None),
        ),
        tokens=tokens,
        latency_ms=(time.perf_counter() - t0) * 1000,
        warnings=warnings,
        details={"items": len(items), "prose_sentences": len(prose)},
    )
    stored = rt.trail.append(record)  # raises when not durable: nothing is shown
    return {
        "id": str(getattr(stored, "id", record.id)),
        "items": payload,
        "filings": [f.doc_name for f in filings],
        "text": text,
        "prose": prose,
        "status": status,
        "warnings": warnings,
    }


def _prose(rt: Any, items: list[DigestItem]) -> tuple[list[str], list[str], str, str, Tokens]:
    """(sentences, warnings, status, llm, tokens): LLM prose when one is set, else none.

    The model down is ``degraded``: the extractive digest is still shown and recorded.
    """
    from app.llm import chat_model

    model = chat_model(rt.settings.llm, settings=rt.settings) if items else None
    if model is None:
        return [], [], "answered", "offline", Tokens()
    try:
        kept, warnings, reply = write_prose(model, items)
    except LLMUnavailable as exc:
        return (
            [],
            [f"LLM unavailable, extractive digest only: {exc}"],
            "degraded",
            model.name,
            Tokens(),
        )
    tokens = Tokens(prompt=reply.prompt_tokens, completion=reply.completion_tokens)
    return kept, warnings, "answered", reply.model or model.name, tokens


def digest_text(items: list[DigestItem]) -> str:
    """The digest as plain lines, one per item with its pages (what the trail stores)."""
    lines = []
    for item in items:
        pages = "; ".join(f"{c.doc_name} p. {c.page}" for c in item.citations)
        lines.append(f"- [{item.kind}] {item.title} ({pages})")
    return "\n".join(lines) or "No changes found between the filings."


def _request(issuer: str | None, since: str | None, docs: tuple[str, ...]) -> str:
    parts = ["digest"]
    if issuer:
        parts.append(f"--issuer {issuer}")
    if since:
        parts.append(f"--since {since}")
    if docs:
        parts.append("--docs " + " ".join(docs))
    return " ".join(parts)


def _citations(items: list[DigestItem]) -> list[Citation]:
    seen: dict[tuple[str, int], Citation] = {}
    for item in items:
        for c in item.citations:
            if c.chunk_id and (c.doc_id, c.page) not in seen:
                seen[(c.doc_id, c.page)] = Citation(
                    doc_id=c.doc_id,
                    doc_name=c.doc_name,
                    page_start=c.page,
                    page_end=c.page,
                    chunk_id=c.chunk_id,
                    content_sha256=c.content_sha256,
                    snippet=c.snippet,
                )
    return list(seen.values())
