"""Research digests: what changed between two comparable filings of an issuer, or in a collection.

Extractive and deterministic (docs/digest.md): risk factors matched by heading across the two
filings (new and removed), the largest changes in the primary statements' figures, and the MD&A
paragraphs whose content shifted most — every item cited to its page in both filings. The
filings are read through ``DocumentIndex`` with the user's groups, so a digest only ever sees the
documents the user may see. Prose written by an LLM is the app's job (``app.digest``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ingestion.documents.chunking import strip_header
from ingestion.errors import SightlineError
from tools.digest_sections import (
    Filing,
    Paragraph,
    paragraphs,
    risk_headings,
    section_lines,
    statement_rows,
)

__all__ = ["DigestCitation", "DigestItem", "Filing", "collection_digest", "filing_digest"]

HEADING_MATCH = 0.55  # word-set similarity at which two risk headings are the same risk
HEADING_PRESENT = 0.8  # share of a heading's words found in one paragraph of the other filing
FIGURE_MIN_SHARE = 0.02  # a figure smaller than this share of its statement's largest is noise
MDNA_MIN_CHARS = 250
MDNA_BAND = (0.35, 0.8)  # similarity of a shifted paragraph to its best match: same topic, new text
TOP_FIGURES = 8
# Revenue and earnings lead what an analyst forwards; working-capital swings in the cash flow
# statement move by large percentages every year.
STATEMENT_WEIGHTS = {"income statement": 1.5, "balance sheet": 1.0, "cash flow statement": 0.6}
TOP_MDNA = 5
_HEADLINE_RE = re.compile(
    r"^(total (net )?revenues?|net revenues?|revenues?|net sales|total net sales|operating "
    r"(income|profit)|net (income|earnings)|consolidated net income|total assets|net cash "
    r"provided by operating activities) \((income statement|balance sheet|cash flow statement)\)",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[a-z][a-z\-']+")
_STOP = frozenset(
    "a an and are as at be by can could for from in is it may of on or our that the their these "
    "this to we which with would".split()
)


@dataclass(frozen=True)
class DigestCitation:
    """Where an item rests: a page of one filing (``role`` current or previous)."""

    doc_name: str
    page: int
    role: str
    doc_id: str = ""
    chunk_id: str = ""
    content_sha256: str = ""
    snippet: str = ""


@dataclass(frozen=True)
class DigestItem:
    """One development: what kind, a one-line title, the detail, a rank score and its citations."""

    kind: str  # new_risk_factor | removed_risk_factor | figure_change | mdna_shift
    issuer: str
    title: str
    detail: str
    score: float
    citations: list[DigestCitation] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


# -- reading filings through the entitlement filter -------------------------------------------
def entitled_filings(
    index: Any,
    *,
    groups: Sequence[str],
    issuer: str | None = None,
    since: str | None = None,
    docs: Sequence[str] = (),
) -> list[Filing]:
    """The active filings ``groups`` may see (``DocumentIndex.documents``), oldest first.

    Only documents the catalogue lists for the user's groups are read; their pages are rebuilt
    from their stored chunks (chunks never cross a page).
    """
    rows = index.documents(groups=list(groups))
    wanted = {d.lower() for d in docs}
    out: list[Filing] = []
    for row in rows:
        if wanted and row["doc_name"].lower() not in wanted and row["doc_id"] not in wanted:
            continue
        if issuer and (row.get("issuer") or "").upper() != issuer.upper():
            continue
        if since and (row.get("doc_date") or "") < since:
            continue
        out.append(_filing(index, row))
    return sorted(out, key=lambda f: (f.doc_date, f.doc_name))


def _filing(index: Any, row: dict[str, Any]) -> Filing:
    pages: dict[int, list[str]] = {}
    first: dict[int, tuple[str, str]] = {}
    for chunk in index.catalogue.chunk_rows(row["doc_id"]):
        page = int(chunk["page_start"])
        lines = strip_header(chunk["text"], chunk.get("section")).split("\n")
        held = pages.setdefault(page, [])
        overlap = next(
            (n for n in range(min(len(held), len(lines)), 0, -1) if held[-n:] == lines[:n]), 0
        )
        held.extend(lines[overlap:])  # consecutive chunks of a page repeat a line or two
        first.setdefault(page, (chunk["chunk_id"], chunk["content_sha256"]))
    return Filing(
        doc_id=row["doc_id"],
        doc_name=row["doc_name"],
        issuer=(row.get("issuer") or "").upper(),
        doc_date=row.get("doc_date") or "",
        doc_type=(row.get("doc_type") or "").upper(),
        pages={n: "\n".join(lines) for n, lines in pages.items()},
        chunks=first,
    )


def comparable_pair(filings: Sequence[Filing]) -> tuple[Filing, Filing] | None:
    """(previous, current): the latest 10-K/10-Q and the last earlier filing of the same form.

    A 10-Q is compared with the 10-Q of the same fiscal quarter a year or more before (the same
    month of its period end), never with the quarter just before it.
    """
    periodic = [f for f in filings if f.doc_type.replace("-", "") in ("10K", "10Q")]
    for current in sorted(periodic, key=lambda f: f.doc_date, reverse=True):
        earlier = [
            f
            for f in periodic
            if f.doc_date < current.doc_date
            and f.doc_type.replace("-", "") == current.doc_type.replace("-", "")
            and (
                current.doc_type.replace("-", "") == "10K"
                or f.doc_date[5:7] == current.doc_date[5:7]
            )
        ]
        if earlier:
            return max(earlier, key=lambda f: f.doc_date), current
    return None


# -- the digest of one pair -------------------------------------------------------------------
def filing_digest(previous: Filing, current: Filing) -> list[DigestItem]:
    """Every change item between two comparable filings, ranked within its kind."""
    return [
        *risk_factor_changes(previous, current),
        *figure_changes(previous, current),
        *mdna_shifts(previous, current),
    ]


def risk_factor_changes(previous: Filing, current: Filing) -> list[DigestItem]:
    """New and removed risk factors, matched by heading across the two filings.

    A heading is new when no heading of the previous filing is the same risk (word-set
    similarity) and its words are not all in one paragraph of the previous risk section either
    (the heading extraction can miss one; the text cannot). Removed is the same the other way.
    """
    old_lines, new_lines = section_lines(previous, "risk"), section_lines(current, "risk")
    if not old_lines or not new_lines:
        return []
    old_heads, new_heads = risk_headings(old_lines), risk_headings(new_lines)
    old_paras, new_paras = paragraphs(old_lines), paragraphs(new_lines)
    items = []
    for kind, heads, other_heads, other_paras, here, there in (
        ("new_risk_factor", new_heads, old_heads, old_paras, current, previous),
        ("removed_risk_factor", old_heads, new_heads, new_paras, previous, current),
    ):
        for head in heads:
            best, best_sim = _closest(head.text, other_heads)
            if best_sim >= HEADING_MATCH or _present(head.text, other_paras):
                continue
            nearest = best or Paragraph(there_first_page(other_paras), "")
            verb = (
                f"new in {current.doc_name}"
                if kind == "new_risk_factor"
                else f"in {previous.doc_name}, gone from {current.doc_name}"
            )
            items.append(
                DigestItem(
                    kind=kind,
                    issuer=current.issuer,
                    title=f"Risk factor {verb}: {head.text}",
                    detail=(
                        f"closest {there.doc_name} heading ({best_sim:.2f} similar): "
                        f"{nearest.text or 'none'}"
                    ),
                    score=round(1.0 - best_sim, 4),
                    citations=_cite_pair(here, head, there, nearest, kind == "new_risk_factor"),
                )
            )
    return sorted(items, key=lambda i: (i.kind, -i.score, i.title))


def there_first_page(paras: Sequence[Paragraph]) -> int:
    """The first page of a section (where a counterpart would have been)."""
    return paras[0].page if paras else 1


def figure_changes(previous: Filing, current: Filing, top: int = TOP_FIGURES) -> list[DigestItem]:
    """The headline lines, then the largest relative changes, matched by statement and label.

    The headline lines (revenue, operating income, net income, total assets, operating cash
    flow) are what an analyst reads first, so they lead however little they moved; the other
    lines compete on relative change weighted by size and statement.
    """
    old_rows = {(r.statement, r.label.lower()): r for r in statement_rows(previous)}
    new_rows = statement_rows(current)
    largest: Counter[str] = Counter()
    for row in new_rows:
        largest[row.statement] = max(largest[row.statement], int(abs(row.value)))
    items = []
    for row in new_rows:
        old = old_rows.get((row.statement, row.label.lower()))
        if old is None or old.value == row.value:
            continue
        scale = max(abs(row.value), abs(old.value))
        if scale < FIGURE_MIN_SHARE * largest[row.statement]:
            continue
        change = (row.value - old.value) / abs(old.value) if old.value else math.inf
        weight = STATEMENT_WEIGHTS.get(row.statement, 1.0)
        score = weight * min(abs(change), 10.0) * math.log10(10 + scale)
        pct = "new" if math.isinf(change) else f"{change:+.1%}"
        items.append(
            DigestItem(
                kind="figure_change",
                issuer=current.issuer,
                title=(
                    f"{row.label} ({row.statement}): {_fmt(old.value)} -> {_fmt(row.value)} ({pct})"
                ),
                detail=f"{previous.doc_name} p. {old.page} vs {current.doc_name} p. {row.page}",
                score=round(score, 4),
                citations=[
                    _cite(current, row.page, "current", row.label),
                    _cite(previous, old.page, "previous", old.label),
                ],
            )
        )
    named: dict[str, DigestItem] = {}  # net income is on three statements: say it once
    for item in items:
        if _HEADLINE_RE.match(item.title):
            named.setdefault(item.title.split(" (")[0].lower(), item)
    headline = list(named.values())
    others = [i for i in items if i not in headline]
    return headline + sorted(others, key=lambda i: (-i.score, i.title))[:top]


def mdna_shifts(previous: Filing, current: Filing, top: int = TOP_MDNA) -> list[DigestItem]:
    """MD&A paragraphs of the current filing whose content moved most from their best match."""
    old = [p for p in paragraphs(section_lines(previous, "mdna")) if _prose(p.text)]
    new = [p for p in paragraphs(section_lines(current, "mdna")) if _prose(p.text)]
    if not old or not new:
        return []
    vectors_old = [_tf(p.text) for p in old]
    items = []
    for para in new:
        vec = _tf(para.text)
        sims = [_cosine(vec, o) for o in vectors_old]
        k = max(range(len(sims)), key=sims.__getitem__)
        if not MDNA_BAND[0] <= sims[k] <= MDNA_BAND[1]:
            continue
        added = sorted(set(vec) - set(vectors_old[k]), key=lambda w: -vec[w])[:6]
        items.append(
            DigestItem(
                kind="mdna_shift",
                issuer=current.issuer,
                title=f"MD&A paragraph changed ({sims[k]:.2f} similar): {para.text[:160]}",
                detail=f"new terms: {', '.join(added) or 'none'}; was: {old[k].text[:200]}",
                score=round((1 - sims[k]) * math.log10(len(para.text)), 4),
                citations=_cite_pair(current, para, previous, old[k], True),
            )
        )
    return sorted(items, key=lambda i: (-i.score, i.title))[:top]


# -- across a collection ------------------------------------------------------------------------
def collection_digest(filings: Sequence[Filing], top: int = 20) -> list[DigestItem]:
    """Key developments across issuers: each issuer's pair digest, ranked together.

    Scores are comparable within a kind only, so each kind's scores are divided by that kind's
    best before ranking (a new risk factor and a 40% revenue change both lead their kind).
    """
    by_issuer: dict[str, list[Filing]] = {}
    for filing in filings:
        by_issuer.setdefault(filing.issuer, []).append(filing)
    items: list[DigestItem] = []
    for issuer_filings in by_issuer.values():
        pair = comparable_pair(issuer_filings)
        if pair:
            items.extend(filing_digest(*pair))
    best: dict[str, float] = {}
    for item in items:
        best[item.kind] = max(best.get(item.kind, 0.0), item.score)
    ranked = sorted(items, key=lambda i: (-(i.score / (best[i.kind] or 1.0)), i.issuer, i.title))
    return ranked[:top]


def digest_filings(filings: Sequence[Filing], issuer: str | None) -> list[DigestItem]:
    """One issuer's digest (its latest comparable pair), or a collection digest without one.

    Raises:
        SightlineError: no two comparable filings the user may see.
    """
    if issuer:
        pair = comparable_pair(filings)
        if pair is None:
            names = ", ".join(f.doc_name for f in filings) or "none"
            raise SightlineError(
                f"no two comparable filings of {issuer.upper()} that you may see (found: {names})",
                hint="a digest compares a 10-K with the previous 10-K, or a 10-Q with the same "
                "quarter of an earlier year; check `sightline docs list`",
            )
        return filing_digest(*pair)
    return collection_digest(filings)


# -- helpers ------------------------------------------------------------------------------------
def _words(text: str) -> set[str]:
    return {w for w in _WORD_RE.findall(text.lower()) if w not in _STOP}


def _similarity(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def _closest(text: str, candidates: Iterable[Paragraph]) -> tuple[Paragraph | None, float]:
    best, best_sim = None, 0.0
    for cand in candidates:
        sim = _similarity(text, cand.text)
        if sim > best_sim:
            best, best_sim = cand, sim
    return best, best_sim


def _present(text: str, paras: Sequence[Paragraph]) -> bool:
    words = _words(text)
    return bool(words) and any(
        len(words & _words(p.text)) >= HEADING_PRESENT * len(words) for p in paras
    )


def _tf(text: str) -> Counter[str]:
    return Counter(w for w in _WORD_RE.findall(text.lower()) if w not in _STOP)


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(v * b[w] for w, v in a.items() if w in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def _prose(text: str) -> bool:
    """A paragraph of sentences, not a table flattened into one (mostly figures)."""
    chars = [c for c in text if not c.isspace()]
    letters = sum(c.isalpha() for c in chars)
    return len(text) >= MDNA_MIN_CHARS and letters >= 0.8 * len(chars)


def _cite(filing: Filing, page: int, role: str, snippet: str) -> DigestCitation:
    chunk_id, sha = filing.chunks.get(page, ("", ""))
    return DigestCitation(filing.doc_name, page, role, filing.doc_id, chunk_id, sha, snippet[:240])


def _cite_pair(
    here: Filing, para: Paragraph, there: Filing, other: Paragraph, here_is_current: bool
) -> list[DigestCitation]:
    first = _cite(here, para.page, "current" if here_is_current else "previous", para.text)
    second = _cite(there, other.page, "previous" if here_is_current else "current", other.text)
    return [first, second] if here_is_current else [second, first]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
