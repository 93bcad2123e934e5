"""Query latency at scale: the full hybrid query with an entitlement filter vs a bare Chroma query.

    python -m evals.bench_query [--chunks 100000] [--queries 200] [--home DIR] [--profile]

Builds a synthetic corpus in a data dir (a temporary one, or ``--home DIR`` which is kept and
reused by later runs with the same size): --chunks chunks over documents of --per-doc chunks, a
fifth of the documents behind the 'deal-team' barrier, texts drawn from a financial vocabulary
with numbers and issuer names. The catalogue rows, keyword index and Chroma records are written
exactly as ``DocumentIndex.ingest`` writes them (same tables, same metadata keys), but the
vectors are not computed per chunk: 64 of the chunk texts are embedded with MiniLM and every
chunk gets one of them plus noise, normalised (embedding 100k texts would take an hour on 2
cores; latency depends on the number, dimension and spread of the vectors, not on what they say).

Then, for the same queries, it times ``DocumentIndex.search`` as a public-side user, exactly what
``sightline search`` runs (MiniLM query embedding, Chroma query with the allow-list filter, FTS5
BM25 with the allow-list, fusion, catalogue check and passage resolution), the query embedding on
its own, and a bare ``collection.query`` with the same query vector and no filter on one plain
collection holding all the vectors (what a store without entitlements would run). Prints p50/p95
of each (and the full query's CPU time: on a shared machine the wall time also counts waiting for
a core), the ratio, and with ``--profile`` the top of a cProfile of the search loop.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

WORDS = (
    "revenue net income operating margin gross profit cash flow capital expenditure dividend "
    "share repurchase goodwill impairment inventory receivables payables debt maturity covenant "
    "liquidity interest expense tax rate segment guidance outlook acquisition restructuring "
    "pension lease depreciation amortization backlog pricing inflation supply chain currency "
    "hedging derivative litigation settlement regulatory capital tier ratio deposits loans "
    "provision credit losses trading fees advisory underwriting cloud subscription consumer"
).split()
ISSUERS = [f"issuer{i}" for i in range(200)]  # rare terms: a query naming one is selective


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _text(rng: random.Random, issuer: str) -> str:
    # Term statistics like a filing's: a head of common financial words (each in roughly a
    # quarter of the chunks: the expensive case for BM25), numbers, the issuer's name, and a
    # Zipf-distributed tail of 20,000 rarer words.
    words = []
    for _ in range(rng.randint(100, 180)):
        roll = rng.random()
        if roll < 0.12:
            words.append(f"{rng.randint(1, 99999):,}")
        elif roll < 0.14:
            words.append(issuer)
        elif roll < 0.30:
            words.append(rng.choice(WORDS))
        else:
            words.append(f"w{min(19_999, int(rng.paretovariate(1.1)) - 1)}")
    return " ".join(words)


def build(index: Any, chunks: int, per_doc: int, seed: int = 7) -> None:
    """Write a synthetic corpus into ``index`` (catalogue, FTS5, Chroma) with few MiniLM encodes."""
    import numpy as np

    from retrieval.catalogue import chunk_id
    from retrieval.ingest import chunk_metadata

    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    docs = chunks // per_doc
    plan = []  # (doc_id, doc_name, groups, issuer, [Chunk])
    for d in range(docs):
        doc_id = hashlib.sha256(f"synthetic {d}".encode()).hexdigest()
        groups = ("deal-team",) if d % 5 == 0 else ("public",)
        issuer = ISSUERS[d % len(ISSUERS)]
        items = []
        for s in range(per_doc):
            text = _text(rng, issuer)
            sha = hashlib.sha256(text.encode()).hexdigest()
            page = s // 4 + 1  # a stand-in for ingestion's Chunk (the fields the writes use)
            items.append(SimpleNamespace(seq=s, page_start=page, page_end=page, text=text,
                                         sha256=sha, tokens=200))  # fmt: skip
        plan.append((doc_id, f"doc{d}", groups, issuer, items))
    sample = [c.text for _, _, _, _, items in plan[:64] for c in items[:1]]
    bases = index.embedder.embed(sample)
    at, model = "2026-01-01T00:00:00+00:00", index.embedder.version
    index.catalogue.store_documents([  # the rows ingest writes, in one transaction
        (
            {"doc_id": doc_id, "doc_name": doc_name, "title": f"Synthetic {doc_name}",
             "issuer": issuer.upper(), "doc_date": "2023-01-01", "doc_type": "10-K",
             "access_groups": list(groups), "acl": ",".join(groups), "kind": "pdf",
             "source_file": f"{doc_name}.pdf", "size_bytes": 1, "pages": per_doc // 4,
             "chunks": per_doc, "uploaded_by": "bench", "uploaded_at": at, "status": "active",
             "superseded_by": None, "flags": {}, "embedding_model": model},
            [{"chunk_id": chunk_id(doc_id, c.seq), "doc_id": doc_id, "seq": c.seq,
              "page_start": c.page_start, "page_end": c.page_end, "section": None,
              "text": c.text, "content_sha256": c.sha256, "tokens": c.tokens} for c in items],
        )
        for doc_id, doc_name, groups, issuer, items in plan
    ])  # fmt: skip
    ids: list[str] = []
    metas: list[dict[str, Any]] = []
    rows: list[int] = []
    for d, (doc_id, doc_name, groups, issuer, items) in enumerate(plan):
        meta = {"title": f"Synthetic {doc_name}", "issuer": issuer.upper(),
                "doc_date": "2023-01-01", "doc_type": "10-K"}  # fmt: skip
        for c in items:
            ids.append(chunk_id(doc_id, c.seq))
            metas.append(
                chunk_metadata(
                    doc_id,
                    doc_name,
                    meta,
                    ",".join(groups),
                    "bench",
                    at,
                    {
                        "seq": c.seq,
                        "page_start": c.page_start,
                        "page_end": c.page_end,
                        "content_sha256": c.sha256,
                    },
                    model,
                )  # fmt: skip
            )
            rows.append(d % len(bases))
    vectors = bases[rows] + np_rng.normal(0, 0.04, (len(rows), bases.shape[1])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index.vectors.upsert(ids, vectors, metas)


def bare_collection(vectors: Any) -> Any:
    """One plain collection with every vector of the index and no metadata (built once)."""
    import numpy as np

    client = vectors._client
    bare = client.get_or_create_collection(
        "bench_bare", embedding_function=None, metadata={"hnsw:space": "cosine"}
    )
    if bare.count() != vectors.count():
        for part in vectors._all():
            for start in range(0, part.count(), 5000):
                got = part.get(limit=5000, offset=start, include=["embeddings"])
                bare.upsert(ids=got["ids"], embeddings=np.asarray(got["embeddings"]))
    return bare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--per-doc", type=int, default=100)
    parser.add_argument("--home", type=Path, default=None, help="Keep the corpus here (reused).")
    parser.add_argument("--profile", action="store_true", help="cProfile the search loop.")
    parser.add_argument(
        "--backend", default="onnx", help="Embedding backend of the index: torch or onnx."
    )
    args = parser.parse_args(argv)
    from app.offline import apply_offline_guards

    apply_offline_guards()
    from retrieval.embeddings import Embedder, EmbeddingCache
    from retrieval.index import DocumentIndex
    from retrieval.vectors import open_vectors

    with ExitStack() as stack:
        base = args.home or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        home = base / args.backend  # a store holds one embedding version
        marker = home / f"bench-{args.chunks}-{args.per_doc}.done"
        vectors = open_vectors("chroma", home)
        index = DocumentIndex(
            home / "documents",
            vectors=vectors,
            embedder=Embedder(
                device="cpu",
                cache=EmbeddingCache(home / "e.db"),
                backend=args.backend,
                data_dir=base,
            ),
        )
        if not marker.exists():
            if vectors.count():
                raise SystemExit(f"{home} holds another corpus; use an empty --home")
            started = time.perf_counter()
            build(index, args.chunks, args.per_doc)
            marker.touch()
            print(f"built {vectors.count():,} chunks in {time.perf_counter() - started:.0f}s")
        torch_encoder = Embedder(device="cpu", backend="torch").encoder
        torch_encoder.encode(["warm up"], batch_size=1, threads=1)
        index.embedder.embed_query("warm up")
        rng = random.Random(11)
        queries = [
            " ".join(rng.sample(WORDS, 3) + ([rng.choice(ISSUERS)] if i % 2 else []))
            for i in range(args.queries)
        ]
        for q in queries[:5]:  # warm caches
            index.search(q, groups=["public"], k=10)
        full, bare, embed, embed_torch, cpu = [], [], [], [], []
        load_start = os.getloadavg()[0]
        collection = bare_collection(vectors)  # the baseline: one unfiltered Chroma query
        profiler = cProfile.Profile() if args.profile else None
        for q in queries:
            if profiler:
                profiler.enable()
            t0, c0 = time.perf_counter(), time.process_time()
            found = index.search(q, groups=["public"], k=10)
            full.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            if profiler:
                profiler.disable()
            assert found and all("deal-team" not in p.access_groups for p in found)
            t0 = time.perf_counter()  # the encoder itself: embed_query would hit its LRU now
            vector = index.embedder.encoder.encode([q], batch_size=1, threads=1)[0]
            embed.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            torch_encoder.encode([q], batch_size=1, threads=1)
            embed_torch.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            collection.query(query_embeddings=[vector], n_results=10)
            bare.append(time.perf_counter() - t0)
    rows = {
        "full hybrid (filtered)": full,
        "  queries naming an issuer": full[1::2],  # the prior routes these to its documents
        "  the other queries": full[0::2],
        "  its CPU time": cpu,  # the work itself: on a loaded machine wall time also waits
        f"query embedding ({args.backend})": embed,
        "query embedding (torch fp32)": embed_torch,
        "bare chroma": bare,
    }
    for name, values in rows.items():
        print(
            f"{name:<28} p50 {1000 * statistics.median(values):7.1f} ms   "
            f"p95 {1000 * percentile(values, 0.95):7.1f} ms"
        )
    share = statistics.median(embed) / statistics.median(full)
    print(f"query embedding share of the full query (p50): {100 * share:.0f}%")
    ratio = percentile(full, 0.95) / percentile(bare, 0.95)
    print(
        f"p95 ratio full hybrid / bare chroma: {ratio:.1f}x "
        f"({args.chunks:,} chunks, {args.queries} queries, {args.backend} backend, load average "
        f"{load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end)"
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(
            os.environ.get("BENCH_SORT", "cumulative")
        ).print_stats(30)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
