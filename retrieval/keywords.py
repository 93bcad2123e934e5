"""Top-k BM25 over precomputed postings: the keyword index's fast path, equal to FTS5's ``bm25``.

FTS5 computes ``bm25()`` row by row for every row the query matches; questions are made of common
words ("revenue", "cash", "income"), each in a quarter of the chunks, so at 100k chunks one OR
query scored ~65k rows and took 0.3-1 s. Here the same statistics live in the catalogue as one
postings blob per (term, document): (chunk rowid, term count, chunk length) triples. A query reads
the blobs of its terms for the documents the allow-list admits (filtered in SQL, inside the
keyword index) and scores them with numpy in a few milliseconds.

The scores are FTS5's own: tokens come from an FTS5 table with the same tokenizer (``porter
unicode61``), and the formula, constants and collection statistics (row count, average length,
rows per term, over every stored chunk) are those of SQLite's ``fts5_aux.c``. A query term that
the tokenizer splits into several tokens ("5,363" -> 5, 363) is a phrase: it is scored by FTS5
itself (phrases of numbers are rare, so that is cheap), and FTS5's BM25 sums over phrases, so the
parts add up to the same score.
"""

from __future__ import annotations

import functools
import math
import secrets
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

K1, B = 1.2, 0.75  # fts5_aux.c's constants
POSTING = np.dtype([("doc", "<u4"), ("row", "<u4"), ("tf", "<u2"), ("dl", "<u2")])
CACHE_BYTES = 256 << 20  # postings kept in memory per process, most recently used first
_LOCK = threading.Lock()


class _PostingsCache:
    """Decoded postings by (catalogue, term, ...), valid while the row's version is unchanged.

    A common term's blob is ~0.4 MB at 100k chunks and SQLite reads it page by page (~4 ms for
    a four-term query); the version column is read without the blob, so a cached copy is used
    only when it is exactly what the catalogue holds now.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.items: OrderedDict[tuple[Any, ...], tuple[Any, Any, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...], version: Any) -> Any:
        with self.lock:
            hit = self.items.get(key)
            if hit is None or hit[0] != version:
                return None
            self.items.move_to_end(key)
            return hit[1]

    def put(self, key: tuple[Any, ...], version: Any, value: Any, nbytes: int) -> None:
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.size -= old[2]
            self.items[key] = (version, value, nbytes)
            self.size += nbytes
            while self.size > self.limit and self.items:
                _, (_, _, dropped) = self.items.popitem(last=False)
                self.size -= dropped


_CACHE = _PostingsCache(CACHE_BYTES)  # term -> its postings
_SCORED = _PostingsCache(CACHE_BYTES)  # (term, scope) -> admitted rows, BM25 term weights


@functools.lru_cache(maxsize=1)
def _tokenizer() -> sqlite3.Connection:
    con = sqlite3.connect(":memory:", check_same_thread=False)  # guarded by _LOCK
    con.execute("CREATE VIRTUAL TABLE tok USING fts5 (text, tokenize='porter unicode61')")
    con.execute("CREATE VIRTUAL TABLE tok_v USING fts5vocab (tok, 'instance')")
    return con


def _instances(rows: Sequence[tuple[int, str]], sql: str) -> list[tuple[Any, ...]]:
    with _LOCK:
        con = _tokenizer()
        try:
            con.executemany("INSERT INTO tok (rowid, text) VALUES (?, ?)", rows)
            return con.execute(sql).fetchall()
        finally:
            con.execute("DELETE FROM tok")


@functools.lru_cache(maxsize=4096)
def tokens(term: str) -> tuple[str, ...]:
    """The FTS5 tokens of one query term, in order."""
    found = _instances([(1, term)], "SELECT term FROM tok_v ORDER BY offset")
    return tuple(r[0] for r in found)


def index_documents(con: sqlite3.Connection, doc_ids: Sequence[str]) -> None:
    """Add the postings of documents whose chunks were just inserted (in the same transaction).

    Each term's postings are one blob, rewritten with the new documents appended (and the
    postings of deleted documents dropped), so a query reads one row per term.
    """
    added: dict[str, list[np.ndarray]] = {}
    for doc_id in doc_ids:
        chunks = con.execute("SELECT id, text FROM chunks WHERE doc_id = ?", [doc_id]).fetchall()
        if not chunks:
            continue
        found = _instances(
            chunks, "SELECT term, doc, count(*) FROM tok_v GROUP BY term, doc ORDER BY term, doc"
        )
        length: dict[int, int] = {}
        for _, row, tf in found:
            length[row] = length.get(row, 0) + tf
        by_term: dict[str, list[tuple[int, int, int]]] = {}
        for term, row, tf in found:
            by_term.setdefault(term, []).append((row, min(tf, 65535), min(length[row], 65535)))
        docno = con.execute(
            "INSERT INTO kw_docs (doc_id, chunks, tokens, terms) VALUES (?, ?, ?, ?) "
            "RETURNING docno",
            [doc_id, len(chunks), sum(length.values()), " ".join(by_term)],
        ).fetchone()[0]
        for term, items in by_term.items():
            post = np.empty(len(items), dtype=POSTING)
            post["doc"] = docno
            post["row"], post["tf"], post["dl"] = zip(*items, strict=True)
            added.setdefault(term, []).append(post)
    dead = _purgeable(con)
    _rewrite(con, {**dict.fromkeys(dead[1]), **dict.fromkeys(added)}, added, dead[0])
    if added:  # readers cache kw_docs per catalogue version (see _scope)
        con.execute(
            "INSERT OR REPLACE INTO catalogue_version VALUES "
            "(1, coalesce((SELECT n FROM catalogue_version WHERE id = 1), 0) + 1)"
        )


def _purgeable(con: sqlite3.Connection) -> tuple[np.ndarray, list[str]]:
    rows = con.execute("SELECT docno, terms FROM kw_dead").fetchall()
    con.execute("DELETE FROM kw_dead")
    terms = {t for _, text in rows for t in text.split()}
    return np.array(sorted(r[0] for r in rows), dtype=np.uint32), sorted(terms)


def _rewrite(
    con: sqlite3.Connection,
    terms: dict[str, None],
    added: dict[str, list[np.ndarray]],
    dead: np.ndarray,
) -> None:
    writes, drops = [], []
    for term in terms:
        hit = con.execute("SELECT postings FROM kw_postings WHERE term = ?", [term]).fetchone()
        parts = [np.frombuffer(hit[0], dtype=POSTING)] if hit else []
        if parts and len(dead):
            parts[0] = parts[0][~np.isin(parts[0]["doc"], dead)]
        parts += added.get(term, [])
        post = np.concatenate(parts) if parts else np.empty(0, dtype=POSTING)
        if len(post):
            writes.append((term, secrets.randbits(62), post.tobytes()))
        else:
            drops.append((term,))
    con.executemany(
        "INSERT OR REPLACE INTO kw_postings (term, version, postings) VALUES (?, ?, ?)", writes
    )
    con.executemany("DELETE FROM kw_postings WHERE term = ?", drops)


def purge(con: sqlite3.Connection) -> None:
    """Physically drop the postings of deleted documents (they are unreachable already)."""
    docnos, terms = _purgeable(con)
    if terms:
        _rewrite(con, dict.fromkeys(terms), {}, docnos)


def needs_backfill(con: sqlite3.Connection) -> bool:
    """Whether some document has chunks but no postings (a catalogue from before them)."""
    return (
        con.execute(
            "SELECT 1 FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM kw_docs) LIMIT 1"
        ).fetchone()
        is not None
        or con.execute("SELECT 1 FROM kw_dead LIMIT 1").fetchone() is not None
    )


def backfill(con: sqlite3.Connection) -> None:
    """Index the documents whose chunks have no postings yet, and purge deleted ones."""
    missing = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT doc_id FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM kw_docs)"
        )
    ]
    index_documents(con, missing)


_Scope = tuple[tuple[Any, ...], int, float, np.ndarray, np.ndarray]
_SCOPES: OrderedDict[tuple[Any, ...], _Scope] = OrderedDict()


def _scope(
    con: sqlite3.Connection, scope_sql: str, scope_args: Sequence[Any], cache_key: str
) -> _Scope | None:
    """Row count, average length, and the stored and allowed docnos as masks.

    Cached per catalogue version: kw_docs and documents change only in transactions that bump it.
    """
    row = con.execute("SELECT n FROM catalogue_version WHERE id = 1").fetchone()
    key = (cache_key, row[0] if row else 0, scope_sql, *scope_args)
    with _LOCK:
        if key in _SCOPES:
            _SCOPES.move_to_end(key)
            return _SCOPES[key]
    docs = con.execute(
        f"SELECT docno, chunks, tokens, doc_id IN ({scope_sql}) FROM kw_docs", list(scope_args)
    ).fetchall()
    if not docs:
        return None
    table = np.array(docs, dtype=np.int64)
    n_rows, avgdl = int(table[:, 1].sum()), float(table[:, 2].sum()) / float(table[:, 1].sum())
    live = np.zeros(int(table[:, 0].max()) + 1, dtype=bool)  # docno -> stored (stats)
    live[table[:, 0]] = True
    allowed = np.zeros_like(live)  # docno -> in the allow-list (and the metadata filters)
    allowed[table[table[:, 3] == 1, 0]] = True
    if not allowed.any():
        return None
    with _LOCK:
        _SCOPES[key] = (key, n_rows, avgdl, live, allowed)
        while len(_SCOPES) > 64:
            _SCOPES.popitem(last=False)
    return key, n_rows, avgdl, live, allowed


def _score_term(
    con: sqlite3.Connection,
    cache_key: str,
    term: str,
    version: int,
    n_rows: int,
    avgdl: float,
    live: np.ndarray,
    allowed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float]:
    """A term's admitted chunk rows, their BM25 term-frequency weights, and the term's idf."""
    post = _CACHE.get((cache_key, term), version)
    if post is None:
        (blob,) = con.execute(
            "SELECT postings FROM kw_postings WHERE term = ?", [term]
        ).fetchone()  # the caller's read transaction: the version it read
        post = np.frombuffer(blob, dtype=POSTING)
        _CACHE.put((cache_key, term), version, post, post.nbytes)
    doc = post["doc"].astype(np.int64)
    doc[doc >= len(live)] = 0  # written after our snapshot of kw_docs: not in it
    hits = int(np.count_nonzero(live[doc]))  # rows holding the term, as FTS5 counts them
    post = post[allowed[doc]]
    if not hits or not len(post):
        return np.empty(0, dtype=np.int64), np.empty(0), 0.0
    idf = math.log((n_rows - hits + 0.5) / (hits + 0.5))
    idf = idf if idf > 0 else 1e-6  # as fts5_aux.c: very common terms count a little
    tf = post["tf"].astype(np.float64)
    norm = K1 * (1 - B + B * post["dl"].astype(np.float64) / avgdl)
    return post["row"].astype(np.int64), tf * (K1 + 1) / (tf + norm), idf


def search(
    con: sqlite3.Connection,
    terms: Sequence[str],
    *,
    scope_sql: str,
    scope_args: Sequence[Any],
    limit: int,
    cache_key: str = "",
) -> list[tuple[str, float]]:
    """(chunk_id, BM25 score) pairs, best first, among the documents ``scope_sql`` selects.

    Args:
        con: a catalogue connection.
        terms: query terms (each one FTS5 phrase, as ``" OR ".join`` would make them).
        scope_sql: ``SELECT doc_id FROM documents WHERE ...``: the allow-list, applied in SQL.
        scope_args: its parameters.
        limit: how many to return.
        cache_key: names the catalogue for the in-process postings cache.
    """
    scope = _scope(con, scope_sql, scope_args, cache_key)
    if scope is None:
        return []
    scope_key, n_rows, avgdl, live, allowed = scope
    parts_rows: list[np.ndarray] = []
    parts_score: list[np.ndarray] = []
    single: dict[str, int] = {}  # token -> how many query terms are that token (each counts)
    for term in terms:
        toks = tokens(term)
        if len(toks) == 1:
            single[toks[0]] = single.get(toks[0], 0) + 1
        elif toks:  # a phrase: FTS5 scores it (its bm25 alone is this term's share)
            found = con.execute(
                "SELECT f.rowid, -bm25(chunks_fts) FROM chunks_fts f "
                "JOIN chunks c ON c.id = f.rowid "
                f"WHERE chunks_fts MATCH ? AND c.doc_id IN ({scope_sql})",
                ['"' + " ".join(toks) + '"', *scope_args],
            ).fetchall()
            if found:
                parts_rows.append(np.array([r[0] for r in found], dtype=np.int64))
                parts_score.append(np.array([r[1] for r in found], dtype=np.float64))
    marks = ",".join("?" * len(single))
    versions = con.execute(
        f"SELECT term, version FROM kw_postings WHERE term IN ({marks})", list(single)
    ).fetchall()
    for term, version in versions:
        scored = _SCORED.get((term, *scope_key), version)
        if scored is None:
            scored = _score_term(con, cache_key, term, version, n_rows, avgdl, live, allowed)
            _SCORED.put((term, *scope_key), version, scored, scored[0].nbytes * 2)
        rows, weight, idf = scored
        if len(rows):
            parts_rows.append(rows)
            parts_score.append(single[term] * idf * weight)
    if not parts_rows:
        return []
    # Dense accumulation over rowids (a few hundred kB at 100k chunks) beats sorting the hits;
    # every hit adds a positive amount (idf >= 1e-6), so the matched rows are the non-zeros.
    scores = np.bincount(np.concatenate(parts_rows), weights=np.concatenate(parts_score))
    matched = np.flatnonzero(scores)
    scores = scores[matched]
    if len(matched) > limit:  # the top `limit` by score
        top = np.argpartition(-scores, limit - 1)[:limit]
        matched, scores = matched[top], scores[top]
    order = np.lexsort((matched, -scores))  # best first, ties by rowid as FTS5's order
    best = [(int(matched[i]), float(scores[i])) for i in order]
    marks = ",".join("?" * len(best))
    ids = dict(
        con.execute(f"SELECT id, chunk_id FROM chunks WHERE id IN ({marks})", [r for r, _ in best])
    )
    return [(ids[r], score) for r, score in best if r in ids]
