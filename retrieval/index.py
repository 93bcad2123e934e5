"""The document index: ingest, supersede, retag, delete and hybrid search with information barriers.

Every query is filtered by a positive allow-list built here, on the server side, from the user's
groups: the acl keys that share a group with the user. The same list filters the vector index
(Chroma ``where`` on ``acl``, a key every chunk has) and the keyword index (SQL ``acl IN``), and
every hit is checked once more against the catalogue before it becomes a ``Passage``: a stale or
wrong record in either index can make a search miss, never leak.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ingestion.documents.chunking import Chunk, chunk_pages, strip_header
from ingestion.documents.errors import DocumentRejected
from ingestion.documents.parsers import ParsedDocument
from ingestion.documents.sandbox import ParseLimits, parse_document
from ingestion.errors import InputError, NotFoundError
from retrieval import keywords
from retrieval.catalogue import Catalogue, acl_key, now
from retrieval.embeddings import CHUNK_TOKENS, Embedder, count_tokens
from retrieval.fusion import (
    best_per_page,
    document_prior,
    reciprocal_rank_fusion,
    statement_boost,
)
from retrieval.passages import Passage
from retrieval.query import understand
from retrieval.vectors import VectorIndex

GROUP_PATTERN = re.compile(r"^[a-z][a-z0-9\-]{0,39}$")
Progress = Callable[[str], None]


@dataclass
class IngestResult:
    """What happened to one file."""

    file: str
    status: str  # indexed | unchanged | rejected
    doc_id: str | None = None
    doc_name: str | None = None
    pages: int = 0
    chunks: int = 0
    embedded: int = 0  # chunks that needed the model (the rest came from the cache)
    superseded: list[str] = field(default_factory=list)
    flags: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def check_groups(groups: Sequence[str]) -> tuple[str, ...]:
    """Validate access groups; a document without any is refused (information barriers)."""
    cleaned = tuple(sorted({g.strip() for g in groups if g.strip()}))
    if not cleaned:
        raise InputError(
            "a document needs at least one access group",
            hint="pass --groups public (or a private-side group such as deal-team)",
        )
    bad = [g for g in cleaned if not GROUP_PATTERN.match(g)]
    if bad:
        raise InputError(
            f"invalid access group(s): {', '.join(bad)}",
            hint="groups are lower-case letters, digits and '-'",
        )
    return cleaned


def _check_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise InputError(f"bad date {value!r}", hint="use YYYY-MM-DD") from exc


class DocumentIndex:
    """Catalogue + keyword index (SQLite) + vector index (Chroma) + embedder."""

    # Ranking knobs measured on FinanceBench-dev (docs/documents.md, "Measured figures"):
    statement_weight = 1.0  # boost for pages holding a financial statement the query names
    implied_weight = 0.5  # ... or one its figures come from (capex -> cash flow statement)
    page_spread = 0.0  # weight of a page's other matching chunks in its score
    route_min = 1.0  # documents with this prior (1 = the best match) are also searched alone

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
        self.candidates = candidates
        self.weights = weights or {"dense": 1.0, "keyword": 1.0}
        self.prior_weight = prior_weight
        self.parse_workers = parse_workers

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
        name as an active document supersedes it.
        """
        acl_groups = check_groups(groups)
        doc_date = _check_date(doc_date)
        if title and len(paths) > 1:
            raise InputError("--title applies to one file", hint="ingest the files one by one")
        say = progress or (lambda _msg: None)
        results = []
        with ThreadPoolExecutor(max_workers=self.parse_workers) as pool:
            futures = [(Path(p), pool.submit(self._prepare, Path(p))) for p in paths]
            for path, future in futures:
                prepared = future.result()
                if isinstance(prepared, IngestResult):
                    results.append(prepared)
                    say(f"{path.name}: unchanged")
                    continue
                digest, size, parsed = prepared
                if isinstance(parsed, DocumentRejected):
                    results.append(self._quarantine(path, digest, size, parsed, uploaded_by))
                    say(f"{path.name}: rejected ({parsed.reason})")
                    continue
                meta = {
                    "title": title or parsed.title or path.stem,
                    "issuer": issuer,
                    "doc_date": doc_date,
                    "doc_type": doc_type or parsed.kind,
                }
                result = self._index(path, digest, size, parsed, acl_groups, uploaded_by, meta)
                if result.status == "rejected":
                    self._quarantine(
                        path,
                        digest,
                        size,
                        DocumentRejected(result.message or "", reason="empty_text"),
                        uploaded_by,
                    )
                say(f"{path.name}: {result.status}, {result.pages} pages, {result.chunks} chunks")
                results.append(result)
        return results

    def _prepare(
        self, path: Path
    ) -> IngestResult | tuple[str, int, ParsedDocument | DocumentRejected]:
        try:
            data = path.read_bytes() if path.stat().st_size <= self.limits.max_bytes else b""
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from exc
        digest = hashlib.sha256(data).hexdigest() if data else _file_sha256(path)
        existing = self.catalogue.document(digest)
        if existing and existing["status"] == "active":
            return IngestResult(
                str(path),
                "unchanged",
                doc_id=digest,
                doc_name=existing["doc_name"],
                pages=existing["pages"],
                chunks=existing["chunks"],
            )
        try:
            parsed: ParsedDocument | DocumentRejected = parse_document(path, self.limits)
        except DocumentRejected as exc:
            parsed = exc
        return digest, path.stat().st_size, parsed

    def _index(
        self,
        path: Path,
        doc_id: str,
        size: int,
        parsed: ParsedDocument,
        groups: tuple[str, ...],
        uploaded_by: str,
        meta: dict[str, Any],
    ) -> IngestResult:
        chunks = chunk_pages(parsed.pages, count_tokens=count_tokens, max_tokens=CHUNK_TOKENS)
        doc_name = path.stem
        if not chunks:
            return IngestResult(
                str(path),
                "rejected",
                doc_id=doc_id,
                doc_name=doc_name,
                reason="empty_text",
                message=f"no text in {path.name}",
            )
        before = self.embedder.computed
        vectors = self.embedder.embed([c.text for c in chunks])
        acl, at, flags = acl_key(groups), now(), parsed.flags.as_dict()
        ids = [chunk_id(doc_id, c.seq) for c in chunks]
        with self.catalogue.connect(write=True) as con:
            con.execute("DELETE FROM chunks WHERE doc_id = ?", [doc_id])
            con.execute("DELETE FROM documents WHERE doc_id = ?", [doc_id])
            con.execute(
                "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    doc_id,
                    doc_name,
                    meta["title"],
                    meta["issuer"],
                    meta["doc_date"],
                    meta["doc_type"],
                    json.dumps(list(groups)),
                    acl,
                    parsed.kind,
                    path.name,
                    size,
                    len(parsed.pages),
                    len(chunks),
                    uploaded_by,
                    at,
                    "indexing",
                    None,
                    json.dumps(flags),
                    self.embedder.version,
                ],
            )
            con.executemany(
                "INSERT INTO chunks (chunk_id, doc_id, seq, page_start, page_end, section, text,"
                " content_sha256, tokens) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        cid,
                        doc_id,
                        c.seq,
                        c.page_start,
                        c.page_end,
                        c.section,
                        c.text,
                        c.sha256,
                        c.tokens,
                    )
                    for cid, c in zip(ids, chunks, strict=True)
                ],
            )
            keywords.index_documents(con, [doc_id])  # BM25 postings, same transaction
        self.vectors.upsert(
            ids,
            vectors,
            [
                _chunk_metadata(
                    doc_id, doc_name, meta, acl, uploaded_by, at, c, self.embedder.version
                )
                for c in chunks
            ],
        )
        with self.catalogue.connect(write=True) as con:
            old = [
                r[0]
                for r in con.execute(
                    "SELECT doc_id FROM documents WHERE doc_name = ? AND status = 'active' "
                    "AND doc_id != ?",
                    [doc_name, doc_id],
                )
            ]
            for old_id in old:
                con.execute(
                    "UPDATE documents SET status = 'superseded', superseded_by = ? "
                    "WHERE doc_id = ?",
                    [doc_id, old_id],
                )
                self.catalogue.log(
                    con,
                    uploaded_by,
                    "supersede",
                    doc_id=old_id,
                    doc_name=doc_name,
                    superseded_by=doc_id,
                )
            con.execute(
                "UPDATE documents SET status = 'active', superseded_by = NULL WHERE doc_id = ?",
                [doc_id],
            )
            self.catalogue.log(
                con,
                uploaded_by,
                "upload",
                doc_id=doc_id,
                doc_name=doc_name,
                file=path.name,
                sha256=doc_id,
                groups=list(groups),
                pages=len(parsed.pages),
                chunks=len(chunks),
            )
            if flags:
                self.catalogue.log(
                    con, uploaded_by, "flagged", doc_id=doc_id, doc_name=doc_name, **flags
                )
        for old_id in old:  # hidden by default, still resolvable for old citations
            self.vectors.set_metadata(self.catalogue.chunk_ids(old_id), {"active": False})
        return IngestResult(
            str(path),
            "indexed",
            doc_id=doc_id,
            doc_name=doc_name,
            pages=len(parsed.pages),
            chunks=len(chunks),
            embedded=self.embedder.computed - before,
            superseded=old,
            flags=flags,
        )

    def _quarantine(
        self, path: Path, digest: str, size: int, exc: DocumentRejected, actor: str
    ) -> IngestResult:
        folder = self.directory / "quarantine"
        folder.mkdir(parents=True, exist_ok=True)
        stored = ""
        if size <= self.limits.max_bytes:  # an oversized file is recorded, not copied
            target = folder / f"{digest[:16]}-{path.name}"
            shutil.copyfile(path, target)
            stored = str(target.relative_to(self.directory))
        with self.catalogue.connect(write=True) as con:
            con.execute(
                "INSERT INTO quarantine (at, actor, file_name, sha256, size_bytes, reason, message,"
                " stored_as) VALUES (?,?,?,?,?,?,?,?)",
                [now(), actor, path.name, digest, size, exc.reason, exc.message, stored],
            )
            self.catalogue.log(
                con,
                actor,
                "quarantine",
                doc_name=path.stem,
                file=path.name,
                sha256=digest,
                reason=exc.reason,
                message=exc.message,
            )
        return IngestResult(
            str(path), "rejected", doc_name=path.stem, reason=exc.reason, message=exc.message
        )

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

    # -- lifecycle -------------------------------------------------------------------------
    def get(self, doc_ref: str) -> dict[str, Any]:
        """One non-deleted document by doc_id, unique doc_id prefix (>= 8 chars) or doc_name."""
        found = (
            self.catalogue.find_documents(doc_ref)
            if len(doc_ref) >= 8 or not all(c in "0123456789abcdef" for c in doc_ref)
            else []
        )
        active = [d for d in found if d["status"] == "active"]
        if len(active) == 1:
            return active[0]
        if len(found) == 1:
            return found[0]
        if not found:
            raise NotFoundError(f"no document {doc_ref!r}", hint="see `sightline docs list`")
        raise InputError(
            f"{doc_ref!r} matches {len(found)} documents", hint="give more characters of the doc_id"
        )

    def delete(self, doc_id: str, *, actor: str) -> dict[str, Any]:
        """Remove a document's chunks from both indexes; the event is recorded with who and when."""
        doc = self.get(doc_id)
        ids = [chunk_id(doc["doc_id"], seq) for seq in range(doc["chunks"])]
        with self.catalogue.connect(write=True) as con:
            con.execute("DELETE FROM chunks WHERE doc_id = ?", [doc["doc_id"]])
            con.execute("UPDATE documents SET status = 'deleted' WHERE doc_id = ?", [doc["doc_id"]])
            self.catalogue.log(
                con,
                actor,
                "delete",
                doc_id=doc["doc_id"],
                doc_name=doc["doc_name"],
                chunks=len(ids),
                previous_status=doc["status"],
            )
        # The catalogue is already clean (searches stop returning it now); then the vectors.
        self.vectors.delete(ids)
        return {**doc, "status": "deleted"}

    def retag(self, doc_id: str, groups: Sequence[str], *, actor: str) -> dict[str, Any]:
        """Change a document's access groups in the catalogue and on every vector."""
        doc = self.get(doc_id)
        new = check_groups(groups)
        with self.catalogue.connect(write=True) as con:
            con.execute(
                "UPDATE documents SET access_groups = ?, acl = ? WHERE doc_id = ?",
                [json.dumps(list(new)), acl_key(new), doc["doc_id"]],
            )
            self.catalogue.log(
                con,
                actor,
                "retag",
                doc_id=doc["doc_id"],
                doc_name=doc["doc_name"],
                before=doc["access_groups"],
                after=list(new),
            )
        self.vectors.set_metadata(
            self.catalogue.chunk_ids(doc["doc_id"]),
            {"acl": acl_key(new), "access_groups": acl_key(new)},
        )
        return {**doc, "access_groups": list(new)}

    def documents(
        self, *, groups: Sequence[str] | None = None, statuses: Sequence[str] = ("active",)
    ) -> list[dict[str, Any]]:
        """Catalogue rows, optionally only those visible to ``groups``."""
        docs = self.catalogue.documents(statuses=statuses)
        if groups is None:
            return docs
        wanted = set(groups)
        return [d for d in docs if wanted & set(d["access_groups"])]

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
        if not query.strip():
            raise InputError("empty search query")
        if k < 1:
            raise InputError("k must be at least 1")
        acls = self.catalogue.allowed_acls(groups)
        if not acls:
            return []
        filtered = any((doc_name, issuer, date_from, date_to))
        doc_ids = (
            self.catalogue.allowed_doc_ids(
                acls,
                doc_name=doc_name,
                issuer=issuer,
                date_from=_check_date(date_from),
                date_to=_check_date(date_to),
            )
            if filtered
            else None
        )
        if doc_ids is not None and not doc_ids:
            return []
        n = max(self.candidates, 3 * k)
        clauses: list[dict[str, Any]] = [{"acl": {"$in": acls}}, {"active": True}]
        if doc_ids is not None:
            clauses.append({"doc_id": {"$in": doc_ids}})
        plan = understand(query)  # instructions dropped, finance synonyms, statements named
        prior: dict[str, float] = {}
        if doc_name is None and self.prior_weight:
            prior = document_prior(query, self.documents(groups=groups))
        vector = self.embedder.embed_query(plan.dense_text)
        rankings = self._candidates(plan.keyword_text, vector, clauses, acls, doc_ids, n)
        # Routing: when the question names a company/period, also search inside the documents it
        # names, so their best chunks are candidates even if other filings crowd the top n.
        routed = [d for d, v in prior.items() if v >= self.route_min]
        if doc_ids is not None:
            routed = [d for d in routed if d in set(doc_ids)]
        if routed and len(routed) < len(prior):
            inside = [*clauses, {"doc_id": {"$in": routed}}]
            for name, ids in self._candidates(
                plan.keyword_text, vector, inside, acls, routed, n
            ).items():
                rankings[f"routed_{name}"] = ids
        weights = {**self.weights, **{f"routed_{k}": w for k, w in self.weights.items()}}
        fused = reciprocal_rank_fusion(rankings, weights)
        rows = self.catalogue.chunks_with_docs(list(fused))
        allowed = set(doc_ids) if doc_ids is not None else None
        wanted = set(groups)
        rows = {
            cid: r
            for cid, r in rows.items()
            if r["status"] == "active"
            and wanted & set(r["access_groups"])
            and (allowed is None or r["doc_id"] in allowed)
        }
        scored = sorted(
            (
                (
                    fused[cid]
                    * (1.0 + self.prior_weight * prior.get(r["doc_id"], 0.0))
                    * statement_boost(r["section"], plan.statements, self.statement_weight)
                    * statement_boost(r["section"], plan.implied, self.implied_weight),
                    cid,
                )
                for cid, r in rows.items()
            ),
            reverse=True,
        )
        # One passage per page (its best chunk): citations name pages.
        pages = {cid: (r["doc_id"], r["page_start"]) for cid, r in rows.items()}
        scored = best_per_page(scored, pages, self.page_spread)
        return [_passage(rows[cid], score) for score, cid in scored[:k]]

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
            _passage(rows[c], 0.0)
            for c in chunk_ids
            if c in rows
            and rows[c]["status"] in ("active", "superseded")
            and wanted & set(rows[c]["access_groups"])
        ]


def chunk_id(doc_id: str, seq: int) -> str:
    """Deterministic chunk id: the first 16 hex digits of the doc_id and the chunk's position."""
    return f"{doc_id[:16]}-{seq:05d}"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _chunk_metadata(
    doc_id: str,
    doc_name: str,
    meta: dict[str, Any],
    acl: str,
    uploaded_by: str,
    at: str,
    chunk: Chunk,
    model: str,
) -> dict[str, Any]:
    # Chroma metadata values cannot be None: absent values are stored as "" / 0.
    return {
        "doc_id": doc_id,
        "doc_name": doc_name,
        "title": meta["title"],
        "issuer": meta["issuer"] or "",
        "doc_date": meta["doc_date"] or "",
        "doc_date_ord": int((meta["doc_date"] or "0").replace("-", "")),
        "doc_type": meta["doc_type"] or "",
        "page_start": chunk.page_start,
        "page_end": chunk.page_end,
        "seq": chunk.seq,
        "acl": acl,
        "access_groups": acl,
        "uploaded_by": uploaded_by,
        "uploaded_at": at,
        "content_sha256": chunk.sha256,
        "embedding_model": model,
        "active": True,
    }


def _passage(row: dict[str, Any], score: float) -> Passage:
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
