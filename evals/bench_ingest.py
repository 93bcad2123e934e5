"""Ingestion throughput: PDF parsers side by side, and the whole pipeline vs raw MiniLM encode.

    python -m evals.bench_ingest [--pdfs N] [--data DIR] [--parsers] [--profile]
        [--backend torch|onnx] [--backends [--limit N]]

1. With ``--parsers``: pypdf vs pypdfium2 on the same pages (in-process, no sandbox).
2. ``DocumentIndex.ingest`` into a fresh data dir (sandboxed parse, chunking, embedding with an
   empty cache, SQLite catalogue + keyword postings + Chroma writes): pages/s and chunks/s.
3. Raw ``SentenceTransformer.encode`` of exactly the chunks step 2 produced (the compute limit),
   timed once before and once after step 2 (the load of a shared machine drifts; the mean of
   the two is the baseline): chunks/s, and the pipeline's overhead over it. The model is loaded
   and warm before any timing. ``--profile`` prints where the pipeline's time went (cProfile).
   ``--backend`` picks the pipeline's embedding backend (the raw baseline stays torch fp32).

``--backends`` runs only this instead: the chunks of the PDFs encoded by the torch fp32 and the
ONNX int8 backend side by side, in alternating slices of 64 chunks (so the load of a shared
machine drifts over both alike), both warm and both on the default threads: chunks/s and CPU
seconds of each, the speed ratio, and the cosine between the two vectors of every chunk.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

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
    parser.add_argument("--parsers", action="store_true", help="Also compare pypdf/pypdfium2.")
    parser.add_argument("--profile", action="store_true", help="cProfile the pipeline.")
    parser.add_argument("--backend", default="torch", help="The pipeline's embedding backend.")
    parser.add_argument(
        "--backends", action="store_true", help="Only compare torch fp32 and ONNX int8 encode."
    )
    parser.add_argument("--limit", type=int, default=None, help="--backends: first N chunks.")
    parser.add_argument(
        "--models-home",
        type=Path,
        default=None,
        help="--backends: data dir that keeps the built ONNX model (default: a temporary one).",
    )
    args = parser.parse_args(argv)
    from app.offline import apply_offline_guards

    apply_offline_guards()
    from retrieval.embeddings import Embedder, EmbeddingCache, load_model, resolve_device
    from retrieval.index import DocumentIndex
    from retrieval.vectors import open_vectors

    pdfs = pick_pdfs(args.data, args.pdfs)
    print(f"{len(pdfs)} PDFs: {', '.join(p.name for p in pdfs)}")
    if args.parsers:
        compare_parsers(pdfs)
    if args.backends:
        return compare_backends(pdfs, args.limit, args.models_home)

    device = resolve_device(args.device)
    model = load_model(device)
    model.encode(["warm up"] * 8)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        index = DocumentIndex(
            home / "documents",
            vectors=open_vectors("chroma", home),
            embedder=Embedder(
                device=device,
                cache=EmbeddingCache(home / "emb.sqlite"),
                backend=args.backend,
                data_dir=home,
            ),
        )
        # The chunks the pipeline will make, for the raw baseline before it (parse + chunk only;
        # read back from the catalogue afterwards and checked to be the same texts).
        texts = preview_chunks(index, pdfs)
        raw_before: float | None = raw_encode(model, texts)
        model_s = [0.0]
        encode = index.embedder._encode

        def timed_encode(batch: list[str], **options: Any) -> Any:  # the model's share
            t0 = time.perf_counter()
            try:
                return encode(batch, **options)
            finally:
                model_s[0] += time.perf_counter() - t0

        index.embedder._encode = timed_encode  # type: ignore[method-assign,assignment]
        profiler = cProfile.Profile() if args.profile else None
        cpu0, started = cpu_seconds(), time.perf_counter()
        if profiler:
            profiler.enable()
        results = index.ingest(pdfs, groups=["public"], uploaded_by="bench")
        if profiler:
            profiler.disable()
        pipeline = time.perf_counter() - started
        pipeline_cpu = cpu_seconds() - cpu0
        pages = sum(r.pages for r in results)
        chunks = sum(r.chunks for r in results)
        with index.catalogue.connect() as con:
            stored = [r[0] for r in con.execute("SELECT text FROM chunks ORDER BY id")]
    if sorted(stored) != sorted(texts):  # the chunker changed under us: time the stored ones
        print("note: preview chunks differ from the stored ones; baseline = after-run only")
        texts, raw_before = stored, None
    cpu0 = cpu_seconds()
    raw_after = raw_encode(model, texts)
    raw_cpu = cpu_seconds() - cpu0
    raw = (raw_before + raw_after) / 2 if raw_before is not None else raw_after
    print(
        f"pipeline   {pages} pages, {chunks} chunks in {pipeline:.1f}s = {pages / pipeline:.1f} "
        f"pages/s, {chunks / pipeline:.1f} chunks/s"
    )
    print(
        f"raw encode {len(texts)} chunks in {raw_before or 0:.1f}s before, {raw_after:.1f}s "
        f"after = {len(texts) / raw:.1f} chunks/s (device {device})"
    )
    print(
        f"pipeline overhead over raw encode: {100 * (pipeline / raw - 1):.0f}% wall, "
        f"{100 * (pipeline_cpu / raw_cpu - 1):.0f}% CPU time ({pipeline_cpu:.1f}s vs "
        f"{raw_cpu:.1f}s, parse children included; load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"inside the pipeline: model {model_s[0]:.1f}s, everything else "
        f"{pipeline - model_s[0]:.1f}s = {100 * (pipeline - model_s[0]) / pipeline:.0f}% "
        "(parse of the first file, chunking, cache, SQLite, Chroma)"
    )
    if profiler:
        out = io.StringIO()
        order = os.environ.get("BENCH_SORT", "cumulative")
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(35)
        print(out.getvalue())
    return 0


def compare_backends(pdfs: list[Path], limit: int | None, models_home: Path | None) -> int:
    """Torch fp32 vs ONNX int8 encode of the same chunks, interleaved (see the module doc)."""
    import numpy as np

    from ingestion.documents.sandbox import ParseLimits
    from retrieval.embeddings import Embedder

    texts = preview_chunks(SimpleNamespace(limits=ParseLimits(max_bytes=100 * 2**20)), pdfs)
    texts = texts[:limit] if limit else texts
    with tempfile.TemporaryDirectory() as tmp:
        encoders = {
            name: Embedder(device="cpu", backend=name, data_dir=models_home or Path(tmp)).encoder
            for name in ("torch", "onnx")
        }
        for encoder in encoders.values():  # load, build (onnx) and warm before any timing
            encoder.encode(texts[:8], batch_size=64, threads=None)
        wall = dict.fromkeys(encoders, 0.0)
        cpu = dict.fromkeys(encoders, 0.0)
        vectors: dict[str, list[Any]] = {name: [] for name in encoders}
        load_start = os.getloadavg()[0]
        for start in range(0, len(texts), 64):
            part = texts[start : start + 64]
            for name, encoder in encoders.items():
                t0, c0 = time.perf_counter(), time.process_time()
                vectors[name].append(encoder.encode(part, batch_size=64, threads=None))
                wall[name] += time.perf_counter() - t0
                cpu[name] += time.process_time() - c0
    for name in encoders:
        print(
            f"{name:<6} {len(texts)} chunks in {wall[name]:.1f}s = {len(texts) / wall[name]:.1f} "
            f"chunks/s ({cpu[name]:.1f} CPU s)"
        )
    a, b = np.concatenate(vectors["torch"]), np.concatenate(vectors["onnx"])
    cosine = (a * b).sum(axis=1)
    print(
        f"onnx int8 / torch fp32 speed: {wall['torch'] / wall['onnx']:.2f}x wall, "
        f"{cpu['torch'] / cpu['onnx']:.2f}x CPU; cosine min {cosine.min():.4f}, "
        f"p1 {np.percentile(cosine, 1):.4f}, mean {cosine.mean():.4f}; load average "
        f"{load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    )
    return 0


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (the parse sandboxes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def compare_parsers(pdfs: list[Path]) -> None:
    """Time pypdf and pypdfium2 on the same pages, in-process."""
    from ingestion.documents.parsers import parse_pdf, parse_pdf_pypdf

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


def preview_chunks(index: Any, pdfs: list[Path]) -> list[str]:
    """The chunk texts ingest will produce for ``pdfs`` (same parser, same chunker)."""
    from ingestion.documents.chunking import chunk_pages
    from ingestion.documents.sandbox import parse_document
    from retrieval.embeddings import CHUNK_TOKENS, count_tokens

    texts: list[str] = []
    for pdf in pdfs:
        parsed = parse_document(pdf, index.limits)
        chunks = chunk_pages(parsed.pages, count_tokens=count_tokens, max_tokens=CHUNK_TOKENS)
        texts.extend(c.text for c in chunks)
    return texts


def raw_encode(model: Any, texts: list[str]) -> float:
    """Seconds for one plain ``SentenceTransformer.encode`` of ``texts`` (batch 64)."""
    started = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
