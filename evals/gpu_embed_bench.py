"""Embedding throughput of the FinanceBench chunks on CUDA vs CPU (for a machine with a GPU).

    python -m evals.gpu_embed_bench [--data DIR] [--cpu-limit 2000] [--batch-size 128]

Self-contained: parses the FinanceBench PDFs with pypdfium2 (in-process), chunks them exactly as
ingestion does (<= 250 MiniLM wordpieces per chunk, per page), then times
``SentenceTransformer.encode`` of every chunk on ``cuda`` and of the first --cpu-limit chunks on
``cpu``. Prints chunks/s and wordpieces/s per device and the speed-up. Needs a CUDA build of torch
to measure the GPU (the project's pinned CPU wheel reports cuda unavailable and measures CPU only).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "financebench-dev" / "pdfs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cpu-limit", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)
    pdfs = sorted(args.data.glob("*.pdf"))
    if not pdfs:
        print(f"skipped: no PDFs under {args.data}")
        return 0
    from app.offline import apply_offline_guards

    apply_offline_guards()
    import torch

    from ingestion.documents.chunking import chunk_pages
    from ingestion.documents.parsers import parse_pdf
    from retrieval.embeddings import CHUNK_TOKENS, count_tokens, load_model

    started = time.perf_counter()
    texts: list[str] = []
    pages = 0
    for pdf in pdfs:
        parsed = parse_pdf(pdf, max_pages=100_000)
        pages += len(parsed.pages)
        chunks = chunk_pages(parsed.pages, count_tokens=count_tokens, max_tokens=CHUNK_TOKENS)
        texts.extend(c.text for c in chunks)
    tokens = sum(count_tokens(texts))
    print(
        f"{len(pdfs)} PDFs, {pages} pages -> {len(texts)} chunks "
        f"({tokens / len(texts):.0f} wordpieces avg) in {time.perf_counter() - started:.1f}s"
    )
    devices = ["cuda"] if torch.cuda.is_available() else []
    if not devices:
        print(f"cuda: not available (torch {torch.__version__}); measuring cpu only")
    devices.append("cpu")
    rates = {}
    for device in devices:
        subset = texts if device == "cuda" else texts[: args.cpu_limit]
        model = load_model(device)
        model.encode(subset[:256], batch_size=args.batch_size)  # warm-up (kernels, allocator)
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        model.encode(subset, batch_size=args.batch_size, normalize_embeddings=True)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        rates[device] = len(subset) / seconds
        name = (
            torch.cuda.get_device_name(0)
            if device == "cuda"
            else f"{torch.get_num_threads()} threads"
        )
        print(
            f"{device:<5} ({name}): {len(subset)} chunks in {seconds:.1f}s = "
            f"{rates[device]:.0f} chunks/s, {rates[device] * tokens / len(texts):.0f} wordpieces/s"
        )
    if "cuda" in rates:
        print(
            f"cuda / cpu: {rates['cuda'] / rates['cpu']:.1f}x; all {len(texts)} chunks embed in "
            f"{len(texts) / rates['cuda']:.0f}s on cuda vs {len(texts) / rates['cpu']:.0f}s on cpu"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
