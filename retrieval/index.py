"""The document index: one object over ingest, lifecycle and search of a data dir's documents.

``DocumentIndex`` is what the rest of the product holds (``app.runtime.Runtime.documents``,
``tools.context.ToolContext.documents``); its methods are the contract in docs/architecture.md.
The work is done by ``retrieval.ingest`` (parse, chunk, embed, store), ``retrieval.lifecycle``
(supersede, retag, delete, embedding versions) and ``retrieval.search`` (hybrid ranking behind
the information barriers); all SQL lives in ``retrieval.catalogue``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingestion.documents.sandbox import ParseLimits
from retrieval.catalogue import Catalogue, chunk_id
from retrieval.embeddings import Embedder
from retrieval.ingest import Ingestor, IngestResult, Progress, Upload, check_date, check_groups
from retrieval.lifecycle import DocumentLifecycle
from retrieval.passages import Passage
from retrieval.search import Filters, HybridSearch, Ranking
from retrieval.vectors import VectorIndex

__all__ = ["DocumentIndex", "IngestResult", "Ranking", "check_groups", "chunk_id"]


class DocumentIndex:
    """Catalogue + keyword index (SQLite) + vector index (Chroma) + embedder.

    Attributes:
        directory: the documents folder (``$SIGHTLINE_HOME/documents``).
        catalogue: the SQLite catalogue (documents, chunks, events, quarantine).
        vectors: the vector index.
        embedder: the embedding model (its ``version`` is recorded on every chunk).
        ranking: the ranking knobs (``retrieval.search.Ranking``), changeable in place.
    """

    def __init__(
        self,
        directory: Path,
        *,
        vectors: VectorIndex,
        embedder: Embedder,
        limits: ParseLimits | None = None,
        candidates: int = 50,
        weights: dict[str, float] | None = None,
        prior_weight: float = 1.0,
        parse_workers: int = 2,
    ) -> None:
        self.directory = Path(directory)
        self.catalogue = Catalogue(self.directory)
        self.vectors = vectors
        self.embedder = embedder
        self.limits = limits or ParseLimits()
        self.ranking = Ranking(candidates=candidates, prior_weight=prior_weight)
        if weights:
            self.ranking.weights = dict(weights)
        self.lifecycle = DocumentLifecycle(self.catalogue, vectors)
        self._ingestor = Ingestor(
            self.directory,
            catalogue=self.catalogue,
            vectors=vectors,
            embedder=embedder,
            lifecycle=self.lifecycle,
            limits=self.limits,
            parse_workers=parse_workers,
        )
        self._search = HybridSearch(self.catalogue, vectors, embedder, self.ranking)

    # -- ingest ----------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[Path],
        *,
        groups: Sequence[str],
        uploaded_by: str,
        title: str | None = None,
        issuer: str | None = None,
        doc_date: str | None = None,
        doc_type: str | None = None,
        progress: Progress | None = None,
    ) -> list[IngestResult]:
        """Parse, chunk, embed and index files; rejected files are quarantined, not indexed.

        Files are parsed in sandboxed child processes ahead of the one being embedded, so parsing
        overlaps embedding. Identical content already active is a no-op; a new file with the same
        name as an active document supersedes it. A store embedded with another embedding
        version (model, backend, quantization) is refused with a ``ConfigError``.
        """
        upload = Upload(groups, uploaded_by, title, issuer, doc_date, doc_type)
        return self._ingestor.ingest(paths, upload, progress)

    def load_manifest(
        self, manifest: Path | None, *, uploaded_by: str, say: Progress | None = None
    ) -> str:
        """Ingest every file of a manifest (default: the demo documents); idempotent.

        Returns:
            A one-line summary such as ``7 documents: 5 indexed, 2 unchanged``.
        """
        from ingestion.documents.manifest import DEMO_MANIFEST, read_manifest

        entries = read_manifest(manifest or DEMO_MANIFEST)
        counts: dict[str, int] = {}
        for entry in entries:
            (result,) = self.ingest(
                [entry.path],
                groups=entry.access_groups,
                uploaded_by=uploaded_by,
                title=entry.title,
                issuer=entry.issuer,
                doc_date=entry.doc_date,
                doc_type=entry.doc_type,
                progress=say,
            )
            counts[result.status] = counts.get(result.status, 0) + 1
        detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        return f"{len(entries)} documents: {detail}"

    def reembed(self, *, actor: str, progress: Progress | None = None) -> list[dict[str, Any]]:
        """Re-embed the documents stored with another embedding version (``Ingestor.reembed``).

        Run after changing ``SIGHTLINE_EMBEDDING_BACKEND``: until then the store refuses
        searches and uploads, since vectors of two versions are not comparable.
        """
        return self._ingestor.reembed(actor=actor, progress=progress)

    # -- lifecycle -------------------------------------------------------------------------
    def get(self, doc_ref: str) -> dict[str, Any]:
        """One non-deleted document by doc_id, unique doc_id prefix (>= 8 chars) or doc_name."""
        return self.lifecycle.get(doc_ref)

    def delete(self, doc_id: str, *, actor: str) -> dict[str, Any]:
        """Remove a document's chunks from both indexes; the event is recorded with who and when."""
        return self.lifecycle.delete(doc_id, actor=actor)

    def retag(self, doc_id: str, groups: Sequence[str], *, actor: str) -> dict[str, Any]:
        """Change a document's access groups in the catalogue and on every vector."""
        return self.lifecycle.retag(doc_id, check_groups(groups), actor=actor)

    def documents(
        self, *, groups: Sequence[str] | None = None, statuses: Sequence[str] = ("active",)
    ) -> list[dict[str, Any]]:
        """Catalogue rows, optionally only those visible to ``groups``."""
        return self.lifecycle.documents(groups=groups, statuses=statuses)

    # -- search ----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        groups: Sequence[str],
        k: int = 10,
        doc_name: str | None = None,
        issuer: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[Passage]:
        """Hybrid search over the documents ``groups`` may see, best first.

        Args:
            query: the question or keywords.
            groups: the user's access groups (from the user store, never from the request).
            k: passages to return.
            doc_name: only this document (file stem).
            issuer: only documents of this issuer.
            date_from: only documents dated on or after (YYYY-MM-DD).
            date_to: only documents dated on or before (YYYY-MM-DD).
        """
        self.lifecycle.check_embedding_version(self.embedder.version)
        filters = Filters(doc_name, issuer, check_date(date_from), check_date(date_to))
        return self._search.search(query, groups=groups, k=k, filters=filters)

    def resolve(self, chunk_ids: Sequence[str], *, groups: Sequence[str]) -> list[Passage]:
        """Passages by chunk id for citations (superseded versions included), entitled only."""
        return self._search.resolve(chunk_ids, groups=groups)
