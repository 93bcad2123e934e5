"""Query latency at scale: the full hybrid query with an entitlement filter vs a bare Chroma query.

    python -m evals.bench_query [--chunks 100000] [--queries 200]

Builds a synthetic corpus in a temporary data dir: --chunks chunks over documents of 100 chunks,
a fifth of them behind the 'deal-team' barrier, texts drawn from a financial vocabulary with
numbers, random unit vectors (embedding 100k real texts would take an hour on 2 cores; latency
depends on the vector count and dimension, not on what they encode). Then times, for the same
queries: ``DocumentIndex.search`` as a public-side user (query embedding with MiniLM, filtered
Chroma query, filtered FTS5 BM25, fusion, catalogue check) and a bare ``collection.query`` with the
same query vector and no filter. Prints p50/p95 of each and the ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

WORDS = (
    "revenue net income operating margin gross profit cash flow capital expenditure dividend "
    "share repurchase goodwill impairment inventory receivables payables debt maturity covenant "
    "liquidity interest expense tax rate segment guidance outlook acquisition restructuring "
    "pension lease depreciation amortization backlog pricing inflation supply chain currency "
    "hedging derivative litigation settlement regulatory capital tier ratio deposits loans "
    "provision credit losses trading fees advisory underwriting cloud subscription consumer"
).split()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--per-doc", type=int, default=100)
    args = parser.parse_args(argv)
    from app.offline import apply_offline_guards

    apply_offline_guards()
    import numpy as np

    from retrieval.embeddings import Embedder, EmbeddingCache, load_model
    from retrieval.index import DocumentIndex, chunk_id
    from retrieval.vectors import open_vectors

    rng = random.Random(7)
    np_rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        vectors = open_vectors("chroma", home)
        index = DocumentIndex(
            home / "documents",
            vectors=vectors,
            embedder=Embedder(device="cpu", cache=EmbeddingCache(home / "e.db")),
        )
        started = time.perf_counter()
        docs = args.chunks // args.per_doc
        for d in range(docs):
            doc_id = hashlib.sha256(str(d).encode()).hexdigest()
            groups = ["deal-team"] if d % 5 == 0 else ["public"]
            texts = [
                " ".join(
                    rng.choice(WORDS) if rng.random() > 0.15 else f"{rng.randint(1, 99999):,}"
                    for _ in range(rng.randint(60, 140))
                )
                for _ in range(args.per_doc)
            ]
            ids = [chunk_id(doc_id, s) for s in range(args.per_doc)]
            with index.catalogue.connect(write=True) as con:
                con.execute(
                    "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        doc_id,
                        f"doc{d}",
                        f"Doc {d}",
                        f"T{d % 50}",
                        "2023-01-01",
                        "10-K",
                        json.dumps(groups),
                        ",".join(groups),
                        "pdf",
                        f"doc{d}.pdf",
                        1,
                        10,
                        args.per_doc,
                        "bench",
                        "2026-01-01",
                        "active",
                        None,
                        "{}",
                        "synthetic",
                    ],
                )
                con.executemany(
                    "INSERT INTO chunks (chunk_id, doc_id, seq, page_start, page_end, section,"
                    " text, content_sha256, tokens) VALUES (?,?,?,?,?,?,?,?,?)",
                    [
                        (i, doc_id, s, s // 4 + 1, s // 4 + 1, None, t, "x", 200)
                        for s, (i, t) in enumerate(zip(ids, texts, strict=True))
                    ],
                )
            vecs = np_rng.standard_normal((args.per_doc, 384)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            vectors.upsert(
                ids,
                vecs,
                [{"doc_id": doc_id, "acl": ",".join(groups), "active": True} for _ in ids],
            )
        print(
            f"built {docs * args.per_doc:,} chunks in {docs} docs in "
            f"{time.perf_counter() - started:.0f}s",
            file=sys.stderr,
        )
        load_model("cpu").encode(["warm up"])
        queries = [" ".join(rng.sample(WORDS, 4)) for _ in range(args.queries)]
        for q in queries[:5]:  # warm caches
            index.search(q, groups=["public"], k=10)
        full, bare, embed = [], [], []
        collection = vectors._collection  # the bare baseline: one unfiltered Chroma query
        for q in queries:
            t0 = time.perf_counter()
            found = index.search(q, groups=["public"], k=10)
            full.append(time.perf_counter() - t0)
            assert all("deal-team" not in p.access_groups for p in found)
            t0 = time.perf_counter()
            vector = index.embedder.embed_query(q)
            embed.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            collection.query(query_embeddings=[vector], n_results=10)
            bare.append(time.perf_counter() - t0)
    rows = {"full hybrid (filtered)": full, "query embedding": embed, "bare chroma": bare}
    for name, values in rows.items():
        print(
            f"{name:<24} p50 {1000 * statistics.median(values):7.1f} ms   "
            f"p95 {1000 * percentile(values, 0.95):7.1f} ms"
        )
    ratio = percentile(full, 0.95) / percentile(bare, 0.95)
    print(
        f"p95 ratio full hybrid / bare chroma: {ratio:.1f}x "
        f"({args.chunks:,} chunks, {args.queries} queries)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
