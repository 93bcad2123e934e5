"""The answer: what ``sightline ask --json`` prints, and the trail record built from it.

``Answer.to_json()`` has exactly the fields of the CLI contract: id, question, answer, status,
citations, tool_calls, feature_values, versions, chart, tokens, latency_ms, warnings,
interpretation. The trail record holds more (user, role, content hashes, SQL, timings,
details) — see ``to_record``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from app.agent.evidence import Evidence

STATUSES = ("answered", "degraded", "flagged", "refused", "withheld")
_CITATION = re.compile(r"\[(\d{1,3})\]")
SNIPPET_CHARS = 240


@dataclass
class Draft:
    """An answer before it is recorded: text, status, an optional chart spec, and why."""

    text: str
    status: str = "answered"
    chart: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    llm: str = "offline"
    prompt: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    stream: list[str] = field(default_factory=list)  # the server's text deltas of ``text``


@dataclass
class Answer:
    """One answer as returned to callers (CLI, Streamlit, evals)."""

    id: str
    question: str
    answer: str
    status: str
    citations: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]
    feature_values: list[dict[str, Any]]
    versions: dict[str, Any]
    chart: dict[str, Any] | None
    tokens: dict[str, int]
    latency_ms: float
    warnings: list[str] = field(default_factory=list)
    interpretation: str | None = None  # the one-line "Interpreted as: ..." of the answer
    trail_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``sightline ask --json`` object (exactly the contract's fields)."""
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "status": self.status,
            "citations": self.citations,
            "tool_calls": self.tool_calls,
            "feature_values": self.feature_values,
            "versions": self.versions,
            "chart": self.chart,
            "tokens": self.tokens,
            "latency_ms": self.latency_ms,
            "warnings": self.warnings,
            "interpretation": self.interpretation,
        }


def cited_numbers(text: str) -> list[int]:
    """Citation markers in ``text``, in order of first appearance."""
    return list(dict.fromkeys(int(n) for n in _CITATION.findall(text)))


def citations(text: str, evidence: Evidence) -> list[dict[str, Any]]:
    """The passages ``text`` cites (markers that point at no passage are left out)."""
    out = []
    for n in cited_numbers(text):
        p = evidence.passage(n)
        if p is None:
            continue
        snippet = " ".join(p["text"].split())
        out.append(
            {
                "n": n,
                "doc_id": p["doc_id"],
                "doc_name": p["doc_name"],
                "title": p.get("title", ""),
                "page_start": p["page_start"],
                "page_end": p["page_end"],
                "chunk_id": p["chunk_id"],
                "content_sha256": p.get("content_sha256", ""),
                "snippet": snippet[:SNIPPET_CHARS] + ("…" if len(snippet) > SNIPPET_CHARS else ""),
            }
        )
    return out


@cache
def code_version() -> str:
    """The package version plus a hash of the agent and tool sources that shaped the answer."""
    from app import __version__

    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for folder in ("app/agent", "app/llm", "tools"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in (".py", ".md") and path.is_file():
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return f"sightline-{__version__}+{digest.hexdigest()[:12]}"


def embedding_version(evidence: Evidence, backend: str = "torch") -> str | None:
    """The embedding version (model + backend recipe), when documents were searched."""
    if not any(c.tool == "search_documents" for c in evidence.calls):
        return None
    from retrieval.embeddings import model_version
    from retrieval.encoders import VERSION_SUFFIX

    return model_version() + VERSION_SUFFIX[backend]


def to_record(
    answer: Answer, evidence: Evidence, draft: Draft, *, user: Any, question: str
) -> dict[str, Any]:
    """The answer trail record (``app.trail.record.AnswerRecord`` fields) of an answer."""
    return {
        "id": answer.id,
        "kind": "answer",
        "user": user.name,
        "role": user.role,
        "status": answer.status,
        "question": question,
        "answer": answer.answer,
        "citations": [{k: v for k, v in c.items() if k != "n"} for c in answer.citations],
        "tool_calls": [
            {
                "tool": c.tool,
                "args": c.args,
                "result": c.result,
                "error": c.error,
                "started": c.started,
                "ms": c.ms,
            }
            for c in evidence.calls
        ],
        "sql": evidence.sql,
        "feature_values": evidence.features,
        "versions": answer.versions,
        "tokens": answer.tokens,
        "latency_ms": answer.latency_ms,
        "warnings": answer.warnings,
        "details": {"chart": answer.chart, **draft.details},
    }
