"""Hybrid search behind the information barriers: dense + BM25 candidates, fused and re-ranked.

Every query is filtered by a positive allow-list built here, on the server side, from the user's
groups: the acl keys that share a group with the user. The same list filters the vector index
(Chroma ``where`` on ``acl``, a key every chunk has) and the keyword index (SQL ``acl IN``), and
every hit is checked once more against the catalogue before it becomes a ``Passage``: a stale or
wrong record in either index can make a search miss, never leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion.documents.chunking import strip_header
from ingestion.errors import InputError
from retrieval.catalogue import Catalogue
from retrieval.embeddings import Embedder
from retrieval.fusion import (
    DocumentMatcher,
    best_per_page,
    reciprocal_rank_fusion,
    statement_boost,
)
from retrieval.passages import Passage
from retrieval.query import understand
from retrieval.vectors import VectorIndex


@dataclass
class Ranking:
    """The ranking knobs (docs/documents.md, "Measured figures", says what each was tuned on)."""

    candidates: int = 50  # top n taken from each index before fusion
    weights: dict[str, float] = field(default_factory=lambda: {"dense": 1.0, "keyword": 1.0})
    prior_weight: float = 1.0  # weight of the document prior (question names the filing)
    statement_weight: float = 1.0  # boost for pages holding a financial statement the query names
    implied_weight: float = 0.5  # ... or one its figures come from (capex -> cash flow statement)
    page_spread: float = 0.0  # weight of a page's other matching chunks in its score
    route_min: float = 1.0  # documents with this prior (1 = the best match) are also searched alone


@dataclass(frozen=True)
class Filters:
    """Metadata filters of a search (dates already validated as YYYY-MM-DD)."""

    doc_name: str | None = None
    issuer: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def any(self) -> bool:
        """Whether any filter is set."""
        return any((self.doc_name, self.issuer, self.date_from, self.date_to))


class HybridSearch:
    """Searches one catalogue + vector index pair for a user's groups."""

    def __init__(
        self,
        catalogue: Catalogue,
        vectors: VectorIndex,
        embedder: Embedder,
        ranking: Ranking,
    ) -> None:
        self.catalogue = catalogue
        self.vectors = vectors
        self.embedder = embedder
        self.ranking = ranking
        self._matchers: dict[tuple[int, tuple[str, ...]], DocumentMatcher] = {}

    def search(
        self, query: str, *, groups: Sequence[str], k: int, filters: Filters
    ) -> list[Passage]:
        """Hybrid search over the documents ``groups`` may see, best first (``DocumentIndex``)."""
        if not query.strip():
            raise InputError("empty search query")
        if k < 1:
            raise InputError("k must be at least 1")
        acls = self.catalogue.allowed_acls(groups)
        if not acls:
            return []
        doc_ids = (
            self.catalogue.allowed_doc_ids(
                acls,
                doc_name=filters.doc_name,
                issuer=filters.issuer,
                date_from=filters.date_from,
                date_to=filters.date_to,
            )
            if filters.any()
            else None
        )
        if doc_ids is not None and not doc_ids:
            return []
        rank = self.ranking
        n = max(rank.candidates, 3 * k)
        clauses: list[dict[str, Any]] = [{"acl": {"$in": acls}}, {"active": True}]
        if doc_ids is not None:
            clauses.append({"doc_id": {"$in": doc_ids}})
        plan = understand(query)  # instructions dropped, finance synonyms, statements named
        prior: dict[str, float] = {}
        if filters.doc_name is None and rank.prior_weight:
            prior = self._matcher(groups).prior(query)
        vector = self.embedder.embed_query(plan.dense_text)
        rankings = self._candidates(plan.keyword_text, vector, clauses, acls, doc_ids, n)
        # Routing: when the question names a company/period, also search inside the documents it
        # names, so their best chunks are candidates even if other filings crowd the top n.
        routed = [d for d, v in prior.items() if v >= rank.route_min]
        if doc_ids is not None:
            routed = [d for d in routed if d in set(doc_ids)]
        if routed and len(routed) < len(prior) and not _all_inside(rankings, routed):
            inside = [*clauses, {"doc_id": {"$in": routed}}]
            for name, ids in self._candidates(
                plan.keyword_text, vector, inside, acls, routed, n
            ).items():
                rankings[f"routed_{name}"] = ids
        weights = {**rank.weights, **{f"routed_{k}": w for k, w in rank.weights.items()}}
        fused = reciprocal_rank_fusion(rankings, weights)
        rows = self._entitled(list(fused), groups, doc_ids)
        scored = sorted(
            (
                (
                    fused[cid]
                    * (1.0 + rank.prior_weight * prior.get(r["doc_id"], 0.0))
                    * statement_boost(r["section"], plan.statements, rank.statement_weight)
                    * statement_boost(r["section"], plan.implied, rank.implied_weight),
                    cid,
                )
                for cid, r in rows.items()
            ),
            reverse=True,
        )
        # One passage per page (its best chunk): citations name pages.
        pages = {cid: (r["doc_id"], r["page_start"]) for cid, r in rows.items()}
        scored = best_per_page(scored, pages, rank.page_spread)
        return [passage(rows[cid], score) for score, cid in scored[:k]]

    def _matcher(self, groups: Sequence[str]) -> DocumentMatcher:
        """The document matcher over the active documents ``groups`` see, kept per version."""
        version, docs = self.catalogue.snapshot()
        key = (version, tuple(sorted(set(groups))))
        matcher = self._matchers.get(key)
        if matcher is None:
            wanted = set(groups)
            visible = [
                d for d in docs if d["status"] == "active" and wanted & set(d["access_groups"])
            ]
            if len(self._matchers) >= 32:  # a few group sets per process; old versions go
                self._matchers.clear()
            matcher = self._matchers[key] = DocumentMatcher(visible)
        return matcher

    def _entitled(
        self, ids: Sequence[str], groups: Sequence[str], doc_ids: Sequence[str] | None
    ) -> dict[str, dict[str, Any]]:
        """Catalogue rows of the hits that are active, entitled and inside the filter."""
        rows = self.catalogue.chunks_with_docs(list(ids))
        allowed = set(doc_ids) if doc_ids is not None else None
        wanted = set(groups)
        return {
            cid: r
            for cid, r in rows.items()
            if r["status"] == "active"
            and wanted & set(r["access_groups"])
            and (allowed is None or r["doc_id"] in allowed)
        }

    def _candidates(
        self,
        keyword_text: str,
        vector: Any,
        clauses: list[dict[str, Any]],
        acls: list[str],
        doc_ids: Sequence[str] | None,
        n: int,
    ) -> dict[str, list[str]]:
        """Top-n chunk ids from the vector and keyword indexes, both behind the allow-list."""
        dense = self.vectors.query(vector, where={"$and": clauses}, n=n)
        keyword = self.catalogue.keyword_search(keyword_text, acls=acls, doc_ids=doc_ids, limit=n)
        return {"dense": [i for i, _ in dense], "keyword": [i for i, _ in keyword]}

    def resolve(self, chunk_ids: Sequence[str], *, groups: Sequence[str]) -> list[Passage]:
        """Passages by chunk id for citations (superseded versions included), entitled only."""
        wanted = set(groups)
        rows = self.catalogue.chunks_with_docs(list(chunk_ids))
        return [
            passage(rows[c], 0.0)
            for c in chunk_ids
            if c in rows
            and rows[c]["status"] in ("active", "superseded")
            and wanted & set(rows[c]["access_groups"])
        ]


def _all_inside(rankings: dict[str, list[str]], doc_ids: Sequence[str]) -> bool:
    """Whether every candidate already comes from ``doc_ids`` (chunk ids start with doc_id[:16]).

    Then the routed pass would find the same lists again: searching inside the named filings
    only pays when other filings crowd them out of the store-wide top n.
    """
    prefixes = {d[:16] for d in doc_ids}
    return all(cid[:16] in prefixes for ids in rankings.values() for cid in ids)


def passage(row: dict[str, Any], score: float) -> Passage:
    """A ``Passage`` from a joined chunk + document catalogue row."""
    return Passage(
        chunk_id=row["chunk_id"],
        doc_id=row["doc_id"],
        doc_name=row["doc_name"],
        title=row["title"],
        issuer=row["issuer"],
        doc_date=row["doc_date"],
        page_start=row["page_start"],
        page_end=row["page_end"],
        text=strip_header(row["text"], row.get("section")),  # the page's own words
        content_sha256=row["content_sha256"],
        access_groups=tuple(row["access_groups"]),
        score=round(float(score), 6),
    )
