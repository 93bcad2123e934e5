"""Document ingest: parse (sandboxed), chunk, embed, store in the catalogue and the vector index.

Rejected files are copied to the quarantine folder and listed, never indexed. A new file with the
name of an active document supersedes it (``retrieval.lifecycle``). Every chunk records its
uploader, content hash, time, access groups and the embedding version that produced its vector.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ingestion.documents.chunking import chunk_pages
from ingestion.documents.errors import DocumentRejected
from ingestion.documents.parsers import ParsedDocument
from ingestion.documents.sandbox import ParseLimits, parse_document
from ingestion.errors import InputError
from retrieval.catalogue import Catalogue, acl_key, chunk_id, now
from retrieval.embeddings import CHUNK_TOKENS, Embedder, count_tokens
from retrieval.lifecycle import DocumentLifecycle
from retrieval.vectors import VectorIndex

GROUP_PATTERN = re.compile(r"^[a-z][a-z0-9\-]{0,39}$")
Progress = Callable[[str], None]
Prepared = tuple[str, int, ParsedDocument | DocumentRejected]  # sha256, size, parse outcome


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


def check_date(value: str | None) -> str | None:
    """An ISO date (YYYY-MM-DD) normalised, or None; anything else is an ``InputError``."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise InputError(f"bad date {value!r}", hint="use YYYY-MM-DD") from exc


def chunk_metadata(
    doc_id: str,
    doc_name: str,
    meta: dict[str, Any],
    acl: str,
    uploaded_by: str,
    at: str,
    chunk: dict[str, Any],
    model: str,
) -> dict[str, Any]:
    """The vector record's metadata for one chunk row (what Chroma filters and returns)."""
    # Chroma metadata values cannot be None: absent values are stored as "" / 0.
    return {
        "doc_id": doc_id,
        "doc_name": doc_name,
        "title": meta["title"],
        "issuer": meta["issuer"] or "",
        "doc_date": meta["doc_date"] or "",
        "doc_date_ord": int((meta["doc_date"] or "0").replace("-", "")),
        "doc_type": meta["doc_type"] or "",
        "page_start": chunk["page_start"],
        "page_end": chunk["page_end"],
        "seq": chunk["seq"],
        "acl": acl,
        "access_groups": acl,
        "uploaded_by": uploaded_by,
        "uploaded_at": at,
        "content_sha256": chunk["content_sha256"],
        "embedding_model": model,
        "active": True,
    }


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in blocks (for files too large to hold in memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Upload:
    """Who uploads and what the files are: the same for every file of one ``ingest`` call."""

    groups: Sequence[str]
    uploaded_by: str
    title: str | None = None
    issuer: str | None = None
    doc_date: str | None = None
    doc_type: str | None = None


class Ingestor:
    """Turns files into indexed documents in one data dir's catalogue and vector index."""

    def __init__(
        self,
        directory: Path,
        *,
        catalogue: Catalogue,
        vectors: VectorIndex,
        embedder: Embedder,
        lifecycle: DocumentLifecycle,
        limits: ParseLimits,
        parse_workers: int = 2,
    ) -> None:
        self.directory = Path(directory)
        self.catalogue = catalogue
        self.vectors = vectors
        self.embedder = embedder
        self.lifecycle = lifecycle
        self.limits = limits
        self.parse_workers = parse_workers

    def ingest(
        self, paths: Sequence[Path], upload: Upload, progress: Progress | None = None
    ) -> list[IngestResult]:
        """Parse, chunk, embed and index files (see ``DocumentIndex.ingest``)."""
        acl_groups = check_groups(upload.groups)
        doc_date = check_date(upload.doc_date)
        if upload.title and len(paths) > 1:
            raise InputError("--title applies to one file", hint="ingest the files one by one")
        self.lifecycle.check_embedding_version(self.embedder.version)
        say = progress or (lambda _msg: None)
        results = []
        # Files are parsed in sandboxed children ahead of the one being embedded.
        with ThreadPoolExecutor(max_workers=self.parse_workers) as pool:
            futures = [(Path(p), pool.submit(self.prepare, Path(p))) for p in paths]
            for path, future in futures:
                prepared = future.result()
                if isinstance(prepared, IngestResult):
                    results.append(prepared)
                    say(f"{path.name}: unchanged")
                    continue
                digest, size, parsed = prepared
                if isinstance(parsed, DocumentRejected):
                    results.append(self.quarantine(path, digest, size, parsed, upload.uploaded_by))
                    say(f"{path.name}: rejected ({parsed.reason})")
                    continue
                meta = {
                    "title": upload.title or parsed.title or path.stem,
                    "issuer": upload.issuer,
                    "doc_date": doc_date,
                    "doc_type": upload.doc_type or parsed.kind,
                }
                result = self.index_file(
                    path, digest, size, parsed, acl_groups, upload.uploaded_by, meta
                )
                say(f"{path.name}: {result.status}, {result.pages} pages, {result.chunks} chunks")
                results.append(result)
        return results

    def prepare(self, path: Path) -> IngestResult | Prepared:
        """Hash a file and parse it in the sandbox; identical active content is ``unchanged``."""
        try:
            data = path.read_bytes() if path.stat().st_size <= self.limits.max_bytes else b""
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from exc
        digest = hashlib.sha256(data).hexdigest() if data else file_sha256(path)
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

    def index_file(
        self,
        path: Path,
        doc_id: str,
        size: int,
        parsed: ParsedDocument,
        groups: tuple[str, ...],
        uploaded_by: str,
        meta: dict[str, Any],
    ) -> IngestResult:
        """Chunk, embed and store one parsed file, then publish it (superseding by name)."""
        chunks = chunk_pages(parsed.pages, count_tokens=count_tokens, max_tokens=CHUNK_TOKENS)
        doc_name = path.stem
        if not chunks:
            message = f"no text in {path.name}"
            self.quarantine(
                path, doc_id, size, DocumentRejected(message, reason="empty_text"), uploaded_by
            )
            return IngestResult(
                str(path), "rejected", doc_id=doc_id, doc_name=doc_name, reason="empty_text",
                message=message,
            )  # fmt: skip
        before = self.embedder.computed
        vectors = self.embedder.embed([c.text for c in chunks])
        acl, at, flags = acl_key(groups), now(), parsed.flags.as_dict()
        rows: list[dict[str, Any]] = [
            {"chunk_id": chunk_id(doc_id, c.seq), "doc_id": doc_id, "seq": c.seq,
             "page_start": c.page_start, "page_end": c.page_end, "section": c.section,
             "text": c.text, "content_sha256": c.sha256, "tokens": c.tokens}
            for c in chunks
        ]  # fmt: skip
        self.catalogue.store_document(
            {"doc_id": doc_id, "doc_name": doc_name, **meta, "access_groups": list(groups),
             "acl": acl, "kind": parsed.kind, "source_file": path.name, "size_bytes": size,
             "pages": len(parsed.pages), "chunks": len(chunks), "uploaded_by": uploaded_by,
             "uploaded_at": at, "status": "indexing", "superseded_by": None, "flags": flags,
             "embedding_model": self.embedder.version},
            rows,
        )  # fmt: skip
        version = self.embedder.version
        self.vectors.upsert(
            [r["chunk_id"] for r in rows],
            vectors,
            [
                chunk_metadata(doc_id, doc_name, meta, acl, uploaded_by, at, r, version)
                for r in rows
            ],
        )
        old = self.lifecycle.publish(
            doc_id, doc_name, actor=uploaded_by,
            upload={"file": path.name, "sha256": doc_id, "groups": list(groups),
                    "pages": len(parsed.pages), "chunks": len(chunks)},
        )  # fmt: skip
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

    def reembed(self, *, actor: str, progress: Progress | None = None) -> list[dict[str, Any]]:
        """Re-embed every stored document whose vectors came from another embedding version.

        Chunk texts are read back from the catalogue (no file is parsed again); each document's
        vectors are replaced in place (same ids, same partition) and then its catalogue row names
        the new version, logged as ``reembed``. Deleted documents have no chunks left to embed.

        Returns:
            One ``{doc_id, doc_name, chunks, before, after}`` per document re-embedded.
        """
        say = progress or (lambda _msg: None)
        version = self.embedder.version
        done = []
        for doc in self.catalogue.documents(statuses=("active", "superseded", "indexing")):
            if doc["embedding_model"] == version:
                continue
            rows = self.catalogue.chunk_rows(doc["doc_id"])
            vectors = self.embedder.embed([r["text"] for r in rows])
            meta = {key: doc[key] for key in ("title", "issuer", "doc_date", "doc_type")}
            metadatas = [
                {
                    **chunk_metadata(
                        doc["doc_id"],
                        doc["doc_name"],
                        meta,
                        doc["acl"],
                        doc["uploaded_by"],
                        doc["uploaded_at"],
                        r,
                        version,
                    ),
                    "active": doc["status"] == "active",
                }  # fmt: skip
                for r in rows
            ]
            self.vectors.upsert([r["chunk_id"] for r in rows], vectors, metadatas)
            self.catalogue.set_embedding_model(doc, version, actor=actor)
            say(f"{doc['doc_name']}: {len(rows)} chunks re-embedded")
            done.append(
                {"doc_id": doc["doc_id"], "doc_name": doc["doc_name"], "chunks": len(rows),
                 "before": doc["embedding_model"], "after": version}
            )  # fmt: skip
        return done

    def quarantine(
        self, path: Path, digest: str, size: int, exc: DocumentRejected, actor: str
    ) -> IngestResult:
        """Copy a rejected file to the quarantine folder (unless oversized) and list it."""
        folder = self.directory / "quarantine"
        folder.mkdir(parents=True, exist_ok=True)
        stored = ""
        if size <= self.limits.max_bytes:  # an oversized file is recorded, not copied
            target = folder / f"{digest[:16]}-{path.name}"
            shutil.copyfile(path, target)
            stored = str(target.relative_to(self.directory))
        self.catalogue.record_quarantine(
            actor=actor, file_name=path.name, sha256=digest, size_bytes=size, reason=exc.reason,
            message=exc.message, stored_as=stored,
        )  # fmt: skip
        return IngestResult(
            str(path), "rejected", doc_name=path.stem, reason=exc.reason, message=exc.message
        )
