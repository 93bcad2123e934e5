"""The vector index backend: Chroma, embedded (PersistentClient) or a server (HttpClient).

Chosen by the ``SIGHTLINE_VECTORS`` setting string: ``chroma`` or ``chroma+http://HOST:PORT``.
We always pass our own embeddings: Chroma's default embedding function would download a model at
run time, so the collection is opened with ``embedding_function=None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np

from ingestion.errors import ConfigError, StoreError

COLLECTION = "sightline_chunks"


class VectorIndex(Protocol):
    """What the document index needs from a vector store."""

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]
    ) -> None:
        """Add or replace records."""

    def query(
        self, vector: np.ndarray, *, where: dict[str, Any], n: int
    ) -> list[tuple[str, float]]:
        """(id, similarity) pairs, best first, among records matching ``where``."""

    def delete(self, ids: Sequence[str]) -> None:
        """Remove records (unknown ids are ignored)."""

    def set_metadata(self, ids: Sequence[str], changes: dict[str, Any]) -> None:
        """Change some metadata keys on the given records."""

    def count(self) -> int:
        """Number of records."""


class ChromaVectors:
    """A Chroma collection with cosine distance, over an embedded store or a server."""

    def __init__(self, client: Any, collection: str = COLLECTION) -> None:
        self._client = client
        try:
            self._collection = client.get_or_create_collection(
                collection, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
            self._max_batch = int(client.get_max_batch_size())
        except Exception as exc:  # chromadb raises many types; translate at the boundary
            raise StoreError(
                f"cannot open the Chroma collection: {exc}",
                hint="check SIGHTLINE_VECTORS and that the server is running",
            ) from exc

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]
    ) -> None:
        """Add or replace records, in batches the server accepts."""
        step = max(1, min(self._max_batch, 5000))
        for start in range(0, len(ids), step):
            end = start + step
            self._call(
                self._collection.upsert,
                ids=list(ids[start:end]),
                embeddings=np.asarray(vectors[start:end], dtype=np.float32),
                metadatas=list(metadatas[start:end]),
            )

    def query(
        self, vector: np.ndarray, *, where: dict[str, Any], n: int
    ) -> list[tuple[str, float]]:
        """(id, cosine similarity) pairs, best first."""
        found = self._call(
            self._collection.query,
            query_embeddings=[np.asarray(vector, np.float32)],
            n_results=n,
            where=where,
            include=["distances"],
        )
        ids = found["ids"][0] if found["ids"] else []
        distances = found["distances"][0] if found.get("distances") else [0.0] * len(ids)
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    def delete(self, ids: Sequence[str]) -> None:
        """Remove records by id."""
        for start in range(0, len(ids), 5000):
            self._call(self._collection.delete, ids=list(ids[start : start + 5000]))

    def set_metadata(self, ids: Sequence[str], changes: dict[str, Any]) -> None:
        """Merge ``changes`` into the metadata of each record."""
        for start in range(0, len(ids), 5000):
            batch = list(ids[start : start + 5000])
            got = self._call(self._collection.get, ids=batch, include=["metadatas"])
            metas = [{**(m or {}), **changes} for m in got["metadatas"]]
            if got["ids"]:
                self._call(self._collection.update, ids=got["ids"], metadatas=metas)

    def get_metadata(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Metadata by id (for checks and tests)."""
        got = self._call(self._collection.get, ids=list(ids), include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def count(self) -> int:
        """Number of records in the collection."""
        return int(self._call(self._collection.count))

    @staticmethod
    def _call(method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except Exception as exc:
            raise StoreError(f"the vector index failed: {exc}") from exc


def open_vectors(setting: str, home: Path, *, collection: str = COLLECTION) -> ChromaVectors:
    """Build the vector index named by ``SIGHTLINE_VECTORS`` (``chroma`` or ``chroma+http://...``).

    ``collection`` lets tests share one Chroma server without sharing records.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if setting == "chroma":
        path = Path(home) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        try:
            client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma store in {path}: {exc}") from exc
        return ChromaVectors(client, collection)
    if setting.startswith("chroma+http"):
        url = urlparse(setting.removeprefix("chroma+"))
        if not url.hostname or not url.port:
            raise ConfigError(
                f"bad SIGHTLINE_VECTORS {setting!r}", hint="use chroma+http://HOST:PORT"
            )
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:
            raise StoreError(
                f"cannot reach the Chroma server at {url.hostname}:{url.port}: {exc}",
                hint="start it with `chroma run --path DIR --port PORT`",
            ) from exc
        return ChromaVectors(client, collection)
    raise ConfigError(
        f"unknown SIGHTLINE_VECTORS {setting!r}", hint="use 'chroma' or 'chroma+http://HOST:PORT'"
    )
