"""The document catalogue: documents, chunks, the keyword index (SQLite FTS5) and lifecycle events.

One SQLite file (``$SIGHTLINE_HOME/documents/catalogue.sqlite``, WAL, synchronous=FULL) holds what
must stay consistent: the documents and their access groups, the chunk texts, the full-text index
over them (kept in step by triggers, so a deleted chunk leaves the keyword index in the same
transaction), the quarantine list and an append-only event log (upload, supersede, retag, delete,
quarantine, flags) with who and when. Many processes may read while one writes. Keyword queries
are answered from BM25 postings kept next to the chunks (``retrieval.keywords``), which score as
FTS5's ``bm25`` does but in milliseconds at 100k chunks.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from retrieval import keywords

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,          -- sha256 of the uploaded bytes
    doc_name TEXT NOT NULL,           -- file stem; a new file with the same name supersedes
    title TEXT NOT NULL,
    issuer TEXT,
    doc_date TEXT,
    doc_type TEXT,
    access_groups TEXT NOT NULL,      -- JSON list, sorted
    acl TEXT NOT NULL,                -- the same groups joined by ',': the entitlement key
    kind TEXT NOT NULL,
    source_file TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    pages INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    status TEXT NOT NULL,             -- indexing | active | superseded | deleted
    superseded_by TEXT,
    flags TEXT NOT NULL DEFAULT '{}', -- JSON counts: invisible, bidi, tag_chars, injection_phrases
    embedding_model TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_name ON documents (doc_name, status);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents (doc_id),
    seq INTEGER NOT NULL,
    page_start INTEGER NOT NULL,
    page_end INTEGER NOT NULL,
    section TEXT,
    text TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    tokens INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5 (
    text, content='chunks', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
-- Bumped by every change to documents: readers keep the document list until it moves.
CREATE TABLE IF NOT EXISTS catalogue_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER);
CREATE TRIGGER IF NOT EXISTS documents_version_ai AFTER INSERT ON documents BEGIN
    INSERT OR REPLACE INTO catalogue_version VALUES
        (1, coalesce((SELECT n FROM catalogue_version WHERE id = 1), 0) + 1);
END;
CREATE TRIGGER IF NOT EXISTS documents_version_au AFTER UPDATE ON documents BEGIN
    INSERT OR REPLACE INTO catalogue_version VALUES
        (1, coalesce((SELECT n FROM catalogue_version WHERE id = 1), 0) + 1);
END;
CREATE TRIGGER IF NOT EXISTS documents_version_ad AFTER DELETE ON documents BEGIN
    INSERT OR REPLACE INTO catalogue_version VALUES
        (1, coalesce((SELECT n FROM catalogue_version WHERE id = 1), 0) + 1);
END;
CREATE TABLE IF NOT EXISTS kw_docs (  -- documents whose chunks have BM25 postings
    docno INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: postings name their document by it
    doc_id TEXT NOT NULL UNIQUE,
    chunks INTEGER NOT NULL,
    tokens INTEGER NOT NULL,          -- FTS5 tokens over its chunks (for the average length)
    terms TEXT NOT NULL               -- its distinct terms, space-separated (to purge them)
);
CREATE TABLE IF NOT EXISTS kw_postings (  -- BM25 postings of one term over every document
    term TEXT PRIMARY KEY,            -- an FTS5 token (porter unicode61), as chunks_fts has it
    version INTEGER NOT NULL,         -- new random value on every rewrite (readers' caches)
    postings BLOB NOT NULL            -- (docno u32, chunk rowid u32, count u16, chunk tokens u16)
);  -- a rowid table: finding a term must not read the large blobs (index-ordered records would)
CREATE TABLE IF NOT EXISTS kw_dead (docno INTEGER PRIMARY KEY, terms TEXT NOT NULL);
-- Chunks are only ever deleted a whole document at a time. Its postings become unreachable in
-- the same transaction (its docno leaves kw_docs) and are purged at the next keyword write.
CREATE TRIGGER IF NOT EXISTS kw_chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT OR IGNORE INTO kw_dead SELECT docno, terms FROM kw_docs WHERE doc_id = old.doc_id;
    DELETE FROM kw_docs WHERE doc_id = old.doc_id;
    INSERT OR REPLACE INTO catalogue_version VALUES
        (1, coalesce((SELECT n FROM catalogue_version WHERE id = 1), 0) + 1);
END;
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,  -- upload | supersede | retag | delete | quarantine | flagged | reembed
    doc_id TEXT,
    doc_name TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events BEGIN
    SELECT RAISE(ABORT, 'document events are append-only');
END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events BEGIN
    SELECT RAISE(ABORT, 'document events are append-only');
END;
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    stored_as TEXT NOT NULL
);
"""

DOC_COLUMNS = (
    "doc_id", "doc_name", "title", "issuer", "doc_date", "doc_type", "access_groups", "acl",
    "kind", "source_file", "size_bytes", "pages", "chunks", "uploaded_by", "uploaded_at",
    "status", "superseded_by", "flags", "embedding_model",
)  # fmt: skip
CHUNK_COLUMNS = (
    "chunk_id", "doc_id", "seq", "page_start", "page_end", "section", "text", "content_sha256",
    "tokens",
)  # fmt: skip
_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:[.,][0-9]+)*")
STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have how in is it its of on or that the "
    "this to was were what when where which who why will with than then there their they our we "
    "you your i me my give response question based using relying shown details "
    # how a question asks, not what it asks about ("what does the 10-K say about X")
    "about say says said tell tells describe describes mention mentions discuss discusses".split()
)
# A filing's form ("10-K", "10-Q", "8-K") names every page of it: as a search term it only adds
# noise ("10" matches every page with a ten). Which filing is meant is the document prior's job.
_FORM_RE = re.compile(r"\b(?:10-?[kq]|8-?k)\b", re.IGNORECASE)


def now() -> str:
    """The current UTC time, ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def acl_key(groups: Sequence[str]) -> str:
    """The canonical entitlement key for a set of access groups."""
    return ",".join(sorted(set(groups)))


def chunk_id(doc_id: str, seq: int) -> str:
    """Deterministic chunk id: the first 16 hex digits of the doc_id and the chunk's position."""
    return f"{doc_id[:16]}-{seq:05d}"


def query_terms(text: str) -> list[str]:
    """Lower-cased search terms of a query, order kept, no duplicates.

    Stopwords, single letters ("Pfizer's" leaves an "s") and filing forms are left out.
    """
    seen: dict[str, None] = {}
    for word in _WORD_RE.findall(_FORM_RE.sub(" ", text).lower()):
        for part in re.split(r"[.,]", word) if not word[0].isdigit() else [word]:
            if part and part not in STOPWORDS and (len(part) > 1 or part.isdigit()):
                seen.setdefault(part, None)
    return list(seen)


class Catalogue:
    """The SQLite catalogue of one data dir."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "catalogue.sqlite"
        self._documents: tuple[int, list[dict[str, Any]]] | None = None
        self._local = threading.local()  # the reading connection of each thread
        con = sqlite3.connect(self.path, timeout=60)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)
        finally:
            con.close()
        with self.connect() as con:  # catalogues written before the postings existed
            stale = keywords.needs_backfill(con)
        if stale:
            with self.connect(write=True) as con:
                keywords.backfill(con)

    @contextmanager
    def connect(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection whose ``with`` block is one transaction (committed on exit).

        ``write=True`` takes the write lock up front (BEGIN IMMEDIATE) so two writers queue
        instead of failing on a lock upgrade; writers get a fresh connection each time. Readers
        reuse one connection per thread (opening one and setting its pragmas cost more than a
        search's queries); a read nested in another read gets a private one.
        """
        con: sqlite3.Connection | None = None if write else getattr(self._local, "con", None)
        keep = not write
        if con is not None and con.in_transaction:  # nested inside another read
            con, keep = None, False
        if con is None:
            con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA foreign_keys=ON")
            if keep:
                self._local.con = con
        try:
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield con
            if con.in_transaction:
                con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            if not keep:
                con.close()

    # -- events and quarantine -------------------------------------------------------------
    @staticmethod
    def log(
        con: sqlite3.Connection,
        actor: str,
        action: str,
        *,
        doc_id: str | None = None,
        doc_name: str | None = None,
        **detail: Any,
    ) -> None:
        """Append one lifecycle event inside the caller's transaction."""
        con.execute(
            "INSERT INTO events (at, actor, action, doc_id, doc_name, detail) VALUES (?,?,?,?,?,?)",
            [now(), actor, action, doc_id, doc_name, json.dumps(detail, sort_keys=True)],
        )

    def events(self, *, doc_id: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Lifecycle events, newest first."""
        sql = "SELECT * FROM events"
        args: list[Any] = []
        if doc_id:
            sql += " WHERE doc_id = ?"
            args.append(doc_id)
        sql += " ORDER BY id DESC LIMIT ?"
        with self.connect() as con:
            rows = con.execute(sql, [*args, limit]).fetchall()
        return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]

    def quarantined(self) -> list[dict[str, Any]]:
        """Every quarantined upload, newest first."""
        with self.connect() as con:
            return [dict(r) for r in con.execute("SELECT * FROM quarantine ORDER BY id DESC")]

    # -- documents -------------------------------------------------------------------------
    def document(self, doc_id: str) -> dict[str, Any] | None:
        """One document row (any status) or None."""
        with self.connect() as con:
            row = con.execute("SELECT * FROM documents WHERE doc_id = ?", [doc_id]).fetchone()
        return _doc(row) if row else None

    def find_documents(self, prefix: str) -> list[dict[str, Any]]:
        """Documents whose doc_id starts with ``prefix`` or whose doc_name equals it."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT * FROM documents WHERE (doc_id LIKE ? OR doc_name = ?) "
                "AND status != 'deleted' ORDER BY uploaded_at DESC",
                [prefix.lower() + "%", prefix],
            ).fetchall()
        return [_doc(r) for r in rows]

    def _all_documents(self, con: sqlite3.Connection | None = None) -> list[dict[str, Any]]:
        """Every document row by name, re-read only when ``catalogue_version`` has moved.

        Each search reads the document list (the allow-list, the document prior, the rows of
        the passages); at 1,000 documents decoding it took ~5 ms each time, for a list that
        changes only on ingest, retag, supersede and delete, each of which bumps the version in
        its own transaction. Pass ``con`` to read it in the caller's transaction.
        """
        if con is None:
            with self.connect() as own:
                return self._all_documents(own)
        row = con.execute("SELECT n FROM catalogue_version WHERE id = 1").fetchone()
        version = row[0] if row else 0
        cached = self._documents
        if cached is not None and cached[0] == version:
            return cached[1]
        rows = con.execute("SELECT * FROM documents ORDER BY doc_name, uploaded_at").fetchall()
        docs = [_doc(r) for r in rows]
        self._documents = (version, docs)
        return docs

    def snapshot(self) -> tuple[int, list[dict[str, Any]]]:
        """(catalogue version, every document row): the rows change only when the version moves.

        The rows are shared: callers must not change them (``documents`` gives copies).
        """
        with self.connect() as con:
            docs = self._all_documents(con)
            cached = self._documents
        return (cached[0] if cached else -1), docs

    def documents(self, *, statuses: Sequence[str] = ("active",)) -> list[dict[str, Any]]:
        """Documents with one of ``statuses``, by name (fresh dicts: callers may change them)."""
        wanted = set(statuses)
        return [
            {**d, "access_groups": list(d["access_groups"]), "flags": dict(d["flags"])}
            for d in self._all_documents()
            if d["status"] in wanted
        ]

    def allowed_acls(self, groups: Sequence[str]) -> list[str]:
        """The positive allow-list: every stored acl key that shares a group with ``groups``."""
        wanted = set(groups)
        keys = {d["acl"] for d in self._all_documents()}
        return sorted(k for k in keys if wanted & set(k.split(",")))

    def allowed_doc_ids(
        self,
        acls: Sequence[str],
        *,
        doc_name: str | None = None,
        issuer: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[str]:
        """Active documents under ``acls`` that match the metadata filters."""
        if not acls:
            return []
        sql = f"SELECT doc_id FROM documents WHERE status = 'active' AND acl IN ({_marks(acls)})"
        args: list[Any] = list(acls)
        for clause, value in (
            ("doc_name = ?", doc_name),
            ("upper(issuer) = upper(?)", issuer),
            ("doc_date >= ?", date_from),
            ("doc_date <= ?", date_to),
        ):
            if value:
                sql += f" AND {clause}"
                args.append(value)
        with self.connect() as con:
            return [r[0] for r in con.execute(sql, args)]

    # -- chunks ----------------------------------------------------------------------------
    def keyword_search(
        self, query: str, *, acls: Sequence[str], doc_ids: Sequence[str] | None, limit: int
    ) -> list[tuple[str, float]]:
        """BM25 over chunk text, restricted to active documents under ``acls`` (allow-list).

        The query's terms are OR-ed, each an FTS5 phrase; the scores are FTS5's ``bm25`` (negated),
        computed from precomputed postings (``retrieval.keywords``) instead of row by row.

        Returns (chunk_id, score) pairs, best first; higher is better.
        """
        terms = query_terms(query)
        if not terms or not acls or (doc_ids is not None and not doc_ids):
            return []
        scope = f"SELECT doc_id FROM documents WHERE status = 'active' AND acl IN ({_marks(acls)})"
        args: list[Any] = list(acls)
        if doc_ids is not None:
            scope += f" AND doc_id IN ({_marks(doc_ids)})"
            args.extend(doc_ids)
        with self.connect() as con:
            return keywords.search(
                con, [t.replace('"', "") for t in terms], scope_sql=scope, scope_args=args,
                limit=limit, cache_key=str(self.path),
            )  # fmt: skip

    def chunks_with_docs(self, chunk_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Chunk rows joined with their document rows, by chunk_id."""
        if not chunk_ids:
            return {}
        sql = (
            "SELECT chunk_id, seq, page_start, page_end, section, text, content_sha256, doc_id "
            f"FROM chunks WHERE chunk_id IN ({_marks(chunk_ids)})"
        )
        with self.connect() as con:  # one transaction: the chunks and the documents agree
            rows = con.execute(sql, list(chunk_ids)).fetchall()
            docs = {d["doc_id"]: d for d in self._all_documents(con)}
        return {
            r["chunk_id"]: {
                **docs[r["doc_id"]],
                "access_groups": list(docs[r["doc_id"]]["access_groups"]),
                "flags": dict(docs[r["doc_id"]]["flags"]),
                **dict(r),
            }
            for r in rows
            if r["doc_id"] in docs
        }

    # -- writes ----------------------------------------------------------------------------
    def store_document(self, document: dict[str, Any], chunks: Sequence[dict[str, Any]]) -> None:
        """Write one document (status ``indexing``) and its chunks, replacing any earlier rows.

        One transaction also writes the chunks' BM25 postings. ``document`` holds every column
        of ``documents`` by name (``DOC_COLUMNS``; ``access_groups`` and ``flags`` as Python
        values); each chunk holds the columns of ``CHUNK_COLUMNS``.
        """
        self.store_documents([(document, chunks)])

    def store_documents(
        self, batch: Sequence[tuple[dict[str, Any], Sequence[dict[str, Any]]]]
    ) -> None:
        """``store_document`` for many documents in one transaction (one postings rewrite)."""
        doc_sql = (
            f"INSERT INTO documents ({', '.join(DOC_COLUMNS)}) "
            f"VALUES ({', '.join(':' + c for c in DOC_COLUMNS)})"
        )
        chunk_sql = (
            f"INSERT INTO chunks ({', '.join(CHUNK_COLUMNS)}) "
            f"VALUES ({', '.join(':' + c for c in CHUNK_COLUMNS)})"
        )
        with self.connect(write=True) as con:
            for document, chunks in batch:
                missing = set(DOC_COLUMNS) - set(document)
                if missing:
                    raise ValueError(f"document row lacks {sorted(missing)}")
                row = {
                    **{c: document[c] for c in DOC_COLUMNS},
                    "access_groups": json.dumps(list(document["access_groups"])),
                    "flags": json.dumps(document["flags"]),
                }
                con.execute("DELETE FROM chunks WHERE doc_id = ?", [row["doc_id"]])
                con.execute("DELETE FROM documents WHERE doc_id = ?", [row["doc_id"]])
                con.execute(doc_sql, row)
                con.executemany(chunk_sql, [{c: ch[c] for c in CHUNK_COLUMNS} for ch in chunks])
            # BM25 postings, same transaction
            keywords.index_documents(con, [document["doc_id"] for document, _ in batch])

    def publish(
        self, doc_id: str, doc_name: str, *, actor: str, upload: dict[str, Any]
    ) -> list[str]:
        """Make a stored document active; earlier active versions of its name become superseded.

        Logs ``supersede`` per earlier version, ``upload`` with ``upload`` as its detail and
        ``flagged`` when the document carries flags, in one transaction.

        Returns:
            The doc_ids that were superseded.
        """
        with self.connect(write=True) as con:
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
                self.log(
                    con, actor, "supersede", doc_id=old_id, doc_name=doc_name,
                    superseded_by=doc_id,
                )  # fmt: skip
            con.execute(
                "UPDATE documents SET status = 'active', superseded_by = NULL WHERE doc_id = ?",
                [doc_id],
            )
            self.log(con, actor, "upload", doc_id=doc_id, doc_name=doc_name, **upload)
            flags = json.loads(
                con.execute("SELECT flags FROM documents WHERE doc_id = ?", [doc_id]).fetchone()[0]
            )
            if flags:
                self.log(con, actor, "flagged", doc_id=doc_id, doc_name=doc_name, **flags)
        return old

    def record_quarantine(
        self,
        *,
        actor: str,
        file_name: str,
        sha256: str,
        size_bytes: int,
        reason: str,
        message: str,
        stored_as: str,
    ) -> None:
        """List a rejected upload in the quarantine table and log it."""
        with self.connect(write=True) as con:
            con.execute(
                "INSERT INTO quarantine (at, actor, file_name, sha256, size_bytes, reason, message,"
                " stored_as) VALUES (?,?,?,?,?,?,?,?)",
                [now(), actor, file_name, sha256, size_bytes, reason, message, stored_as],
            )
            self.log(
                con, actor, "quarantine", doc_name=Path(file_name).stem, file=file_name,
                sha256=sha256, reason=reason, message=message,
            )  # fmt: skip

    def mark_deleted(self, doc: dict[str, Any], *, actor: str) -> None:
        """Drop a document's chunks (and their postings) and mark it deleted, logged."""
        with self.connect(write=True) as con:
            con.execute("DELETE FROM chunks WHERE doc_id = ?", [doc["doc_id"]])
            con.execute("UPDATE documents SET status = 'deleted' WHERE doc_id = ?", [doc["doc_id"]])
            self.log(
                con, actor, "delete", doc_id=doc["doc_id"], doc_name=doc["doc_name"],
                chunks=doc["chunks"], previous_status=doc["status"],
            )  # fmt: skip

    def set_access_groups(self, doc: dict[str, Any], groups: Sequence[str], *, actor: str) -> None:
        """Change a document's access groups (and acl key), logged with before and after."""
        with self.connect(write=True) as con:
            con.execute(
                "UPDATE documents SET access_groups = ?, acl = ? WHERE doc_id = ?",
                [json.dumps(list(groups)), acl_key(groups), doc["doc_id"]],
            )
            self.log(
                con, actor, "retag", doc_id=doc["doc_id"], doc_name=doc["doc_name"],
                before=doc["access_groups"], after=list(groups),
            )  # fmt: skip

    def set_embedding_model(self, doc: dict[str, Any], version: str, *, actor: str) -> None:
        """Record that a document's vectors now come from ``version``, logged as ``reembed``."""
        with self.connect(write=True) as con:
            con.execute(
                "UPDATE documents SET embedding_model = ? WHERE doc_id = ?",
                [version, doc["doc_id"]],
            )
            self.log(
                con, actor, "reembed", doc_id=doc["doc_id"], doc_name=doc["doc_name"],
                before=doc["embedding_model"], after=version,
            )  # fmt: skip

    def chunk_rows(self, doc_id: str) -> list[dict[str, Any]]:
        """Every chunk row of one document, in order."""
        with self.connect() as con:
            rows = con.execute(
                f"SELECT {', '.join(CHUNK_COLUMNS)} FROM chunks WHERE doc_id = ? ORDER BY seq",
                [doc_id],
            ).fetchall()
        return [dict(r) for r in rows]

    def embedding_models(self) -> set[str]:
        """The embedding versions of the documents search can reach (active and superseded)."""
        return {
            d["embedding_model"]
            for d in self._all_documents()
            if d["status"] in ("active", "superseded", "indexing")
        }

    def chunk_ids(self, doc_id: str) -> list[str]:
        """Every chunk id of one document."""
        with self.connect() as con:
            return [
                r[0]
                for r in con.execute(
                    "SELECT chunk_id FROM chunks WHERE doc_id = ? ORDER BY seq", [doc_id]
                )
            ]


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _doc(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    if "access_groups" in out:
        out["access_groups"] = json.loads(out["access_groups"])
    if "flags" in out:
        out["flags"] = json.loads(out["flags"])
    return out
