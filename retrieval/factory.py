"""Build the document index of a data dir from setting values (called by ``app.runtime``)."""

from __future__ import annotations

from pathlib import Path

from ingestion.documents.sandbox import ParseLimits
from retrieval.embeddings import Embedder, EmbeddingCache
from retrieval.index import DocumentIndex
from retrieval.vectors import open_vectors


def open_document_index(
    home: Path,
    *,
    vectors: str = "chroma",
    device: str = "auto",
    backend: str = "torch",
    max_mb: int = 25,
    max_pages: int = 2000,
    collection: str = "sightline_chunks",
) -> DocumentIndex:
    """The document index under ``home/documents`` with the vector backend ``vectors``.

    Args:
        home: the data dir (``SIGHTLINE_HOME``).
        vectors: ``chroma`` (embedded, ``home/chroma``) or ``chroma+http://HOST:PORT``.
        device: embedding device setting (``auto``, ``cpu``, ``cuda``).
        backend: embedding backend setting (``torch`` or ``onnx``, ``retrieval.encoders``).
        max_mb: upload size cap in MB.
        max_pages: page cap per document.
        collection: the Chroma collection (tests give each index its own on a shared server).
    """
    directory = Path(home) / "documents"
    embedder = Embedder(
        device=device,
        cache=EmbeddingCache(directory / "embeddings.sqlite"),
        backend=backend,
        data_dir=directory,
    )
    limits = ParseLimits(max_bytes=max_mb * 1024 * 1024, max_pages=max_pages)
    return DocumentIndex(
        directory,
        vectors=open_vectors(vectors, home, collection=collection),
        embedder=embedder,
        limits=limits,
    )
