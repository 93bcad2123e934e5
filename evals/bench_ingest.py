"""Ingestion throughput: PDF parsers side by side, and the whole pipeline vs raw MiniLM encode.

    python -m evals.bench_ingest [--pdfs N] [--data DIR]

1. pypdf vs pypdfium2 on the same pages (in-process, no sandbox): pages/s and the ratio.
2. ``DocumentIndex.ingest`` into a fresh data dir (sandboxed parse, chunking, embedding with an
   empty cache, SQLite + Chroma writes): pages/s and chunks/s.
3. Raw ``SentenceTransformer.encode`` of exactly the chunks step 2 produced (the compute limit):
   chunks/s, and the pipeline's overhead over it. The model is loaded before any timing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "ingestion" / "demo_data" / "documents"
FINANCEBENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "financebench-dev" / "pdfs"


def pick_pdfs(data: Path | None, count: int) -> list[Path]:
    folder = data or (FINANCEBENCH if FINANCEBENCH.is_dir() else DEMO)
    pdfs = sorted(folder.glob("*.pdf"), key=lambda p: p.stat().st_size)
    return pdfs[:count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdfs", type=int, default=3, help="How many PDFs (smallest first).")
    parser.add_argument("--data", type=Path, default=None, help="Folder of PDFs.")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    from app.offline import apply_offline_guards

    apply_offline_guards()
    from ingestion.documents.parsers import parse_pdf, parse_pdf_pypdf
    from retrieval.embeddings import Embedder, EmbeddingCache, load_model, resolve_device
    from retrieval.index import DocumentIndex
    from retrieval.vectors import open_vectors

    pdfs = pick_pdfs(args.data, args.pdfs)
    print(f"{len(pdfs)} PDFs: {', '.join(p.name for p in pdfs)}")
    timings = {}
    for name, parse in (("pypdf", parse_pdf_pypdf), ("pypdfium2", parse_pdf)):
        started, pages = time.perf_counter(), 0
        for pdf in pdfs:
            pages += len(parse(pdf, max_pages=100_000).pages)
        timings[name] = time.perf_counter() - started
        print(
            f"parse {name:<10} {pages} pages in {timings[name]:.1f}s = "
            f"{pages / timings[name]:.1f} pages/s"
        )
    print(f"pypdfium2 / pypdf speed: {timings['pypdf'] / timings['pypdfium2']:.1f}x")

    device = resolve_device(args.device)
    model = load_model(device)
    model.encode(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        index = DocumentIndex(
            home / "documents",
            vectors=open_vectors("chroma", home),
            embedder=Embedder(device=device, cache=EmbeddingCache(home / "emb.sqlite")),
        )
        started = time.perf_counter()
        results = index.ingest(pdfs, groups=["public"], uploaded_by="bench")
        pipeline = time.perf_counter() - started
        pages = sum(r.pages for r in results)
        chunks = sum(r.chunks for r in results)
        with index.catalogue.connect() as con:
            texts = [r[0] for r in con.execute("SELECT text FROM chunks ORDER BY id")]
    print(
        f"pipeline   {pages} pages, {chunks} chunks in {pipeline:.1f}s = {pages / pipeline:.1f} "
        f"pages/s, {chunks / pipeline:.1f} chunks/s"
    )
    started = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True)
    raw = time.perf_counter() - started
    print(
        f"raw encode {len(texts)} chunks in {raw:.1f}s = {len(texts) / raw:.1f} chunks/s "
        f"(device {device})"
    )
    print(f"pipeline overhead over raw encode: {100 * (pipeline / raw - 1):.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
