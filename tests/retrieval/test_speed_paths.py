"""The fast paths behind the query-latency figures keep the slow paths' meaning.

- Keyword search from precomputed postings ranks and scores exactly as SQLite FTS5's ``bm25``
  over the same chunks, under the same allow-list; deleted documents leave the postings.
- The vector index, partitioned by entitlement key, answers an ``acl`` filter by choosing
  partitions: moves on retag and supersede, never returns another key, migrates old stores.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import uuid
from pathlib import Path

import numpy as np
import pytest

from retrieval import keywords
from retrieval.catalogue import Catalogue, query_terms

WORDS = (
    "revenue revenues net income margin margins cash flow debt 5,363 2.5 capital goodwill lease "
    "pension tax inventory backlog dividend covenant hedging litigation segment outlook"
).split()


def _fill(cat: Catalogue, docs: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    ids = []
    with cat.connect(write=True) as con:
        for d in range(docs):
            doc_id = hashlib.sha256(f"d{d}".encode()).hexdigest()
            acl = ["public", "deal-team", "deal-team,public"][d % 3]
            con.execute(
                "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [doc_id, f"doc{d}", "t", None, None, None, json.dumps(acl.split(",")), acl,
                 "md", "f.md", 1, 1, 5, "u", "x", "active", None, "{}", "m"],
            )  # fmt: skip
            con.executemany(
                "INSERT INTO chunks (chunk_id, doc_id, seq, page_start, page_end, section, text,"
                " content_sha256, tokens) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (f"{doc_id[:16]}-{s:05d}", doc_id, s, 1, 1, None,
                     " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40))), "x", 9)
                    for s in range(5)
                ],
            )  # fmt: skip
            keywords.index_documents(con, [doc_id])
            ids.append(doc_id)
    return ids


def _fts5(cat: Catalogue, query: str, acls: list[str], limit: int) -> list[tuple[str, float]]:
    match = " OR ".join('"' + t + '"' for t in query_terms(query))
    con = sqlite3.connect(cat.path)
    try:
        rows = con.execute(
            "SELECT c.chunk_id, -bm25(chunks_fts) FROM chunks_fts "
            "JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.doc_id = c.doc_id "
            f"WHERE chunks_fts MATCH ? AND d.status = 'active' AND d.acl IN "
            f"({','.join('?' * len(acls))}) ORDER BY bm25(chunks_fts), c.id LIMIT ?",
            [match, *acls, limit],
        ).fetchall()
    finally:
        con.close()
    return [(r[0], float(r[1])) for r in rows]


def _same_ranking(ours: list[tuple[str, float]], ref: list[tuple[str, float]]) -> None:
    assert len(ours) == len(ref)
    assert [s for _, s in ours] == pytest.approx([s for _, s in ref], rel=1e-9, abs=1e-12)
    # Ids agree except where two scores tie to rounding (summation order may swap them).
    for (a, sa), (b, sb) in zip(ours, ref, strict=True):
        assert a == b or abs(sa - sb) < 1e-9


@pytest.mark.parametrize(
    "query",
    ["revenue", "net income margins", "cash flow 5,363", "margin margins debt", "2.5 capital"],
)
def test_keyword_search_equals_fts5_bm25(tmp_path: Path, query: str) -> None:
    cat = Catalogue(tmp_path)
    _fill(cat, 30)
    for acls in (["public"], ["deal-team", "deal-team,public"], ["public", "deal-team,public"]):
        ours = cat.keyword_search(query, acls=acls, doc_ids=None, limit=20)
        assert ours, query
        _same_ranking(ours, _fts5(cat, query, acls, 20))


def test_keyword_search_allow_list_and_lifecycle(tmp_path: Path) -> None:
    cat = Catalogue(tmp_path)
    ids = _fill(cat, 12)
    private = {i for n, i in enumerate(ids) if n % 3 == 1}  # acl 'deal-team' only
    found = cat.keyword_search("revenue cash debt", acls=["public"], doc_ids=None, limit=100)
    with cat.connect() as con:
        owner = dict(con.execute("SELECT chunk_id, doc_id FROM chunks").fetchall())
    assert found and not {owner[c] for c, _ in found} & private
    # A superseded document stops matching at once; a deleted one leaves the postings.
    victim, superseded = ids[0], ids[3]
    with cat.connect(write=True) as con:
        con.execute("UPDATE documents SET status = 'superseded' WHERE doc_id = ?", [superseded])
        con.execute("DELETE FROM chunks WHERE doc_id = ?", [victim])
        con.execute("UPDATE documents SET status = 'deleted' WHERE doc_id = ?", [victim])
    after = cat.keyword_search("revenue cash debt", acls=["public"], doc_ids=None, limit=100)
    assert after and not {owner[c] for c, _ in after} & {victim, superseded}
    _same_ranking(after, _fts5(cat, "revenue cash debt", ["public"], 100))
    Catalogue(tmp_path)  # the next open (or write) purges the deleted document's postings
    with cat.connect() as con:
        (docno_left,) = con.execute("SELECT count(*) FROM kw_dead").fetchone()
        blobs = [r[0] for r in con.execute("SELECT postings FROM kw_postings")]
        live = {r[0] for r in con.execute("SELECT docno FROM kw_docs")}
    assert docno_left == 0
    stored = {int(d) for b in blobs for d in np.frombuffer(b, dtype=keywords.POSTING)["doc"]}
    assert stored == live


def test_catalogue_without_postings_is_backfilled(tmp_path: Path) -> None:
    cat = Catalogue(tmp_path)
    _fill(cat, 6)
    expected = cat.keyword_search("net income", acls=["public"], doc_ids=None, limit=10)
    with cat.connect(write=True) as con:  # as a catalogue written before the postings
        con.execute("DELETE FROM kw_postings")
        con.execute("DELETE FROM kw_docs")
    again = Catalogue(tmp_path).keyword_search(
        "net income", acls=["public"], doc_ids=None, limit=10
    )
    assert expected
    _same_ranking(again, expected)


@pytest.fixture
def vectors(tmp_path: Path, vectors_setting: str):  # noqa: ANN201
    from retrieval.vectors import open_vectors

    return open_vectors(vectors_setting, tmp_path, collection=f"s{uuid.uuid4().hex}")


def _meta(acl: str, active: bool = True) -> dict[str, object]:
    return {"acl": acl, "access_groups": acl, "active": active, "doc_id": acl}


@pytest.mark.slow
def test_vector_partitions_follow_acl_and_active(vectors) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((6, 384)).astype(np.float32)
    ids = [f"c{i}" for i in range(6)]
    acls = ["public", "public", "deal-team", "deal-team", "deal-team,public", "risk"]
    vectors.upsert(ids, vecs, [_meta(a) for a in acls])
    assert vectors.count() == 6

    def hits(where: dict) -> set[str]:  # noqa: ANN001
        return {i for i, _ in vectors.query(vecs[0], where=where, n=10)}

    public = {"$and": [{"acl": {"$in": ["public", "deal-team,public"]}}, {"active": True}]}
    assert hits(public) == {"c0", "c1", "c4"}
    assert hits({"acl": "risk"}) == {"c5"}
    assert hits({"$and": [{"acl": {"$in": ["public"]}}, {"doc_id": "nothing"}]}) == set()
    # Supersede: hidden from active-only queries, still stored, still found when asked for.
    vectors.set_metadata(["c0"], {"active": False})
    assert hits(public) == {"c1", "c4"} and vectors.count() == 6
    assert "c0" in hits({"acl": {"$in": ["public"]}})
    assert "c0" not in hits({"acl": {"$in": ["deal-team"]}})
    # Retag: the record moves; its old key no longer finds it; metadata follows.
    vectors.set_metadata(["c2"], {"acl": "public", "access_groups": "public"})
    assert "c2" in hits(public) and "c2" not in hits({"acl": "deal-team"})
    assert vectors.get_metadata(["c2"])["c2"]["acl"] == "public" and vectors.count() == 6
    # Re-upsert under another key leaves no stale copy behind.
    vectors.upsert(["c3"], vecs[3:4], [_meta("risk")])
    assert vectors.count() == 6 and "c3" not in hits({"acl": "deal-team"})
    vectors.delete(ids)
    assert vectors.count() == 0 and hits(public) == set()


def test_exact_search_keeps_vectors_of_a_doc_id_filter_until_a_write(vectors) -> None:  # noqa: ANN001
    rng = np.random.default_rng(1)
    vecs = rng.standard_normal((4, 384)).astype(np.float32)
    meta = {"acl": "public", "access_groups": "public", "active": True}
    vectors.upsert(
        ["a0", "a1", "b0", "b1"], vecs, [{**meta, "doc_id": d} for d in ("A", "A", "B", "B")]
    )
    where = {"$and": [{"acl": {"$in": ["public"]}}, {"active": True}, {"doc_id": {"$in": ["A"]}}]}
    first = vectors.query(vecs[1], where=where, n=5)
    assert [i for i, _ in first] == ["a1", "a0"] and len(vectors._exact_cache) == 1
    assert vectors.query(vecs[1], where=where, n=5) == first  # served from the kept vectors
    assert [i for i, _ in vectors.query(vecs[0], where=where, n=1)] == ["a0"]
    # A write in this process clears it: a new chunk of A is found at once.
    vectors.upsert(["a2"], vecs[3:4], [{**meta, "doc_id": "A"}])
    assert len(vectors._exact_cache) == 0
    assert [i for i, _ in vectors.query(vecs[3], where=where, n=1)] == ["a2"]
    vectors.delete(["a2"])
    assert "a2" not in {i for i, _ in vectors.query(vecs[3], where=where, n=5)}
    # Any other filter is not kept (new records of an issuer may arrive from another process).
    vectors.query(vecs[0], where={"$and": [{"acl": "public"}, {"doc_id": "A"}]}, n=5)
    assert len(vectors._exact_cache) == 1


@pytest.mark.slow
def test_single_collection_store_is_migrated(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings

    from retrieval.vectors import open_vectors

    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    old = client.get_or_create_collection("legacy", embedding_function=None)
    vecs = np.eye(3, 384, dtype=np.float32)
    old.add(ids=["a", "b", "c"], embeddings=vecs, metadatas=[
        _meta("public"), _meta("deal-team"), _meta("public", active=False)
    ])  # fmt: skip
    del old, client
    moved = open_vectors("chroma", tmp_path, collection="legacy")
    assert moved.count() == 3
    found = moved.query(vecs[0], where={"$and": [{"acl": "public"}, {"active": True}]}, n=5)
    assert [i for i, _ in found][:1] == ["a"] and {i for i, _ in found} == {"a"}
