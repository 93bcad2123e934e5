"""Hybrid ranking: reciprocal rank fusion of dense and keyword results, plus a document prior.

Financial questions name exact line items (the keyword index finds them) and paraphrase (the
vectors find that). Reciprocal rank fusion combines the two ranked lists without calibrating their
scores. In a shared store, several years of one company's filings compete; questions usually name
the company and the year, so a document whose name, title or issuer matches the question's terms
gets a multiplicative prior (IDF-weighted, so a rare company name counts more than "10-K").
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from retrieval.catalogue import STOPWORDS, query_terms

RRF_K = 60
_FY_RE = re.compile(r"\b(?:fy|fiscal\s+(?:year\s+)?)'?(\d{2}|\d{4})\b", re.IGNORECASE)


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[str]], weights: Mapping[str, float]
) -> dict[str, float]:
    """Sum of weight / (RRF_K + rank) over the ranked lists each id appears in."""
    scores: dict[str, float] = {}
    for name, ids in rankings.items():
        weight = weights.get(name, 1.0)
        for rank, item in enumerate(ids, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (RRF_K + rank)
    return scores


def _descriptor_terms(doc: Mapping[str, Any]) -> set[str]:
    parts = (
        str(doc.get("doc_name") or ""),
        str(doc.get("title") or ""),
        str(doc.get("issuer") or ""),
        str(doc.get("doc_type") or ""),
    )
    return set(_descriptor_terms_of(parts))


@functools.lru_cache(maxsize=65536)  # per query for every document: ~70 ms at 1,000 documents
def _descriptor_terms_of(parts: tuple[str, ...]) -> frozenset[str]:
    text = " ".join(parts).replace("_", " ")
    terms = set(query_terms(text))
    terms.update(_hyphenated(text))
    for term in list(terms):  # "2023q2" also names 2023
        if m := re.match(r"(\d{4})q\d$", term):
            terms.add(m.group(1))
    return frozenset(terms)


def _question_terms(query: str) -> set[str]:
    terms = set(query_terms(query))
    terms.update(_hyphenated(query))
    for match in _FY_RE.finditer(query):
        year = match.group(1)
        terms.add(year if len(year) == 4 else f"20{year}")
    return terms


def _hyphenated(text: str) -> set[str]:
    """Words with their hyphens dropped ("covid-19" -> "covid19"), stopwords left out.

    A stopword on both sides ("the" in a question and in a note's title) must not make a match.
    """
    words = re.findall(r"[a-z0-9][a-z0-9\-]+", text.lower())
    return {w.replace("-", "") for w in words} - STOPWORDS


class DocumentMatcher:
    """The document prior over one list of documents, through an inverted index of their terms.

    Matching every document's descriptor terms against the question cost ~16-20 ms per query at
    1,000 documents; the index is built once per document list (the searcher keeps it until the
    catalogue changes) and a question then costs one lookup per term. A question term matches a
    document when it equals one of its descriptor terms, or is a short form of at least three
    letters of one ("jpm" of "jpmorgan", "pepsi" of "pepsico").
    """

    def __init__(self, docs: Sequence[Mapping[str, Any]]) -> None:
        self.n = len(docs)
        self._ids = [doc["doc_id"] for doc in docs]
        self._docs: dict[str, set[str]] = {}  # descriptor term -> doc_ids
        for doc in docs:
            for term in _descriptor_terms(doc):
                self._docs.setdefault(term, set()).add(doc["doc_id"])
        self._sorted = sorted(self._docs)  # for short forms: a range of this list

    def _matching(self, term: str) -> set[str]:
        if not (len(term) >= 3 and term.isalpha()):
            return self._docs.get(term, set())
        found: set[str] = set()
        for descriptor in self._sorted[bisect.bisect_left(self._sorted, term) :]:
            if not descriptor.startswith(term):
                break
            found |= self._docs[descriptor]
        return found

    def prior(self, query: str) -> dict[str, float]:
        """A 0..1 prior per doc_id (see ``document_prior``)."""
        if self.n < 2:
            return {}
        raw: dict[str, float] = {}
        for term in _question_terms(query):
            docs = self._matching(term)
            if docs:  # IDF-weighted: a rare company name counts more than a common word
                weight = math.log((self.n + 1) / (len(docs) + 0.5))
                for doc_id in docs:
                    raw[doc_id] = raw.get(doc_id, 0.0) + weight
        best = max(raw.values(), default=0.0)
        if best <= 0:
            return {}
        return {doc_id: max(0.0, raw.get(doc_id, 0.0)) / best for doc_id in self._ids}


def document_prior(query: str, docs: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """A 0..1 prior per doc_id: how well the question's terms match each document's descriptors.

    Returns an empty dict when the question names nothing that tells the documents apart.
    """
    return DocumentMatcher(docs).prior(query)


def statement_boost(section: str | None, statements: Sequence[str], weight: float) -> float:
    """A multiplier for a chunk whose page caption names a financial statement the query asks for.

    ``chunking.page_caption`` ends the caption of a statement page with the statement's plain
    name in brackets ("... Consolidated Statement of Cash Flows (cash flow statement)").
    """
    if not section or not statements or not weight:
        return 1.0
    return 1.0 + weight if any(section.endswith(f"({s})") for s in statements) else 1.0


def best_per_page(
    scored: Sequence[tuple[float, str]], page_of: Mapping[str, tuple[str, int]], spread: float = 0.0
) -> list[tuple[float, str]]:
    """One hit per page: its best chunk, scored as the best chunk plus ``spread`` x the others.

    A citation names a page, so a second chunk of a page already in the list spends a slot
    without finding new evidence; several matching chunks on one page (a statement that holds
    every line item a question needs) are evidence that the page is the right one.

    Args:
        scored: (score, chunk_id) pairs, best first.
        page_of: chunk_id -> (doc_id, page).
        spread: weight of the page's other chunks' scores (0 = the best chunk alone).

    Returns:
        (page score, best chunk_id) pairs, best first.
    """
    best: dict[tuple[str, int], tuple[float, str]] = {}
    rest: dict[tuple[str, int], float] = {}
    for score, cid in scored:
        page = page_of[cid]
        if page in best:
            rest[page] = rest.get(page, 0.0) + score
        else:
            best[page] = (score, cid)
    return sorted(
        ((score + spread * rest.get(page, 0.0), cid) for page, (score, cid) in best.items()),
        reverse=True,
    )
