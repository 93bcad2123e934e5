"""The vector index backend: Chroma, embedded (PersistentClient) or a server (HttpClient).

Chosen by the ``SIGHTLINE_VECTORS`` setting string: ``chroma`` or ``chroma+http://HOST:PORT``.
We always pass our own embeddings: Chroma's default embedding function would download a model at
run time, so the collection is opened with ``embedding_function=None``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np

from ingestion.errors import ConfigError, StoreError

COLLECTION = "sightline_chunks"
EXACT_MAX = 1000  # a filter admitting at most this many records is searched exactly (numpy)
EXACT_CACHE = 16  # doc_id sets whose vectors the exact path keeps (<= 1.5 MB each)


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
    """Chroma collections with cosine distance, one per entitlement key, embedded or on a server.

    Records are partitioned by their ``acl`` metadata: every distinct set of access groups has
    its own collection (``BASE-acl-<sha256(acl)[:16]>``), and chunks hidden from search (metadata
    ``active`` False: superseded versions kept for old citations) live in ``BASE-archive``. Chroma
    evaluates a ``where`` filter by collecting every matching record from its metadata store
    before the HNSW search, so a filter that admits most of the corpus (the usual allow-list)
    cost ~1 s per query at 100k chunks; with the partitions, the allow-list picks which
    collections are searched and no record-level filter is needed. ``query`` keeps the meaning
    of a ``where`` filter: the ``acl`` and ``active`` clauses choose partitions, any other clause
    is passed to Chroma inside them.
    """

    def __init__(self, client: Any, collection: str = COLLECTION) -> None:
        self._client = client
        self._base = collection
        self._open: dict[str, Any] = {}  # collection name -> handle, for names known to exist
        # (collection, doc_ids) -> (ids, unit vectors) of the exact path, see ``_exact``
        self._exact_cache: OrderedDict[tuple[str, tuple[str, ...]], tuple[list[str], Any]] = (
            OrderedDict()
        )
        try:
            self._max_batch = int(client.get_max_batch_size())
            self._migrate_single_collection()
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types; translate at the boundary
            raise StoreError(
                f"cannot open the Chroma collections: {exc}",
                hint="check SIGHTLINE_VECTORS and that the server is running",
            ) from exc

    # -- partitions ------------------------------------------------------------------------
    def _name(self, partition: str | None) -> str:
        if partition is None:
            return f"{self._base}-archive"
        return f"{self._base}-acl-{hashlib.sha256(partition.encode()).hexdigest()[:16]}"

    @staticmethod
    def _partition(meta: dict[str, Any]) -> str | None:
        """The acl key whose collection holds a record, or None for the archive."""
        return str(meta.get("acl", "")) if meta.get("active", True) else None

    def _collection(self, partition: str | None, *, create: bool) -> Any | None:
        name = self._name(partition)
        if name in self._open:
            return self._open[name]
        if create:
            meta = {"hnsw:space": "cosine", "sightline_acl": partition or ""}
            found = self._call(
                self._client.get_or_create_collection,
                name=name,
                embedding_function=None,
                metadata=meta,
            )
        else:
            try:
                found = self._client.get_collection(name, embedding_function=None)
            except Exception:  # not created yet: no record has this acl
                return None
        self._open[name] = found
        return found

    def _all(self) -> list[Any]:
        """Every partition of this index (listed from the store: other processes add some)."""
        listed = self._call(self._client.list_collections)
        prefix = f"{self._base}-"
        out = []
        for item in listed:
            name = item if isinstance(item, str) else item.name
            if name.startswith(prefix) and (name.endswith("-archive") or "-acl-" in name):
                if name not in self._open:
                    self._open[name] = self._call(
                        self._client.get_collection, name=name, embedding_function=None
                    )
                out.append(self._open[name])
        return out

    def _migrate_single_collection(self) -> None:
        """Move the records of a data dir written before partitioning into the partitions."""
        try:
            legacy = self._client.get_collection(self._base, embedding_function=None)
        except Exception:
            return
        while True:
            got = legacy.get(limit=1000, include=["embeddings", "metadatas"])
            if not got["ids"]:
                break
            self.upsert(got["ids"], np.asarray(got["embeddings"]), got["metadatas"])
            legacy.delete(ids=got["ids"])
        try:
            self._client.delete_collection(self._base)
        except Exception:  # another process finished the same migration first
            pass

    # -- the VectorIndex protocol ----------------------------------------------------------
    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]
    ) -> None:
        """Add or replace records, each in its partition, in batches the server accepts."""
        self._exact_cache.clear()
        groups: dict[str | None, list[int]] = {}
        for i, meta in enumerate(metadatas):
            groups.setdefault(self._partition(meta), []).append(i)
        if not groups:
            return
        vectors = np.asarray(vectors, dtype=np.float32)
        # A record moves partition when its acl or active flag changed: no stale copy may stay.
        targets = {self._name(p): rows for p, rows in groups.items()}
        for other in self._all():
            stale = [ids[i] for name, rows in targets.items() if name != other.name for i in rows]
            if stale:
                self._delete_in(other, stale)
        step = max(1, min(self._max_batch, 5000))
        for partition, rows in groups.items():
            target = self._collection(partition, create=True)
            assert target is not None  # create=True always returns one
            for start in range(0, len(rows), step):
                batch = rows[start : start + step]
                self._call(
                    target.upsert,
                    ids=[ids[i] for i in batch],
                    embeddings=vectors[batch],
                    metadatas=[metadatas[i] for i in batch],
                )

    def query(
        self, vector: np.ndarray, *, where: dict[str, Any], n: int
    ) -> list[tuple[str, float]]:
        """(id, cosine similarity) pairs, best first, among records matching ``where``.

        ``where`` is a Chroma filter. Its top-level ``acl`` clause (``{"acl": key}`` or
        ``{"acl": {"$in": keys}}``, alone or inside ``$and``) selects the partitions to search,
        and ``{"active": True}`` leaves the archive out; other clauses filter inside them.
        """
        acls, active_only, rest = _plan(where)
        if acls is None:
            targets = [c for c in self._all() if not c.name.endswith("-archive")]
        else:
            targets = [c for a in acls if (c := self._collection(a, create=False)) is not None]
        archive_where: dict[str, Any] | None = None
        if not active_only:
            archive = self._collection(None, create=False)
            if archive is not None:
                targets.append(archive)
                extra = [{"acl": {"$in": list(acls)}}] if acls is not None else []
                archive_where = _and([*extra, *rest])
        query = np.asarray(vector, np.float32)
        hits: list[tuple[str, float]] = []
        for target in targets:
            where_in = archive_where if target.name.endswith("-archive") else _and(rest)
            exact = self._exact(target, query, where_in, n) if where_in else None
            if exact is not None:
                hits.extend(exact)
                continue
            found = self._call(
                target.query,
                query_embeddings=[query],
                n_results=n,
                where=where_in,
                include=["distances"],
            )
            ids = found["ids"][0] if found["ids"] else []
            distances = found["distances"][0] if found.get("distances") else [0.0] * len(ids)
            hits.extend((i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True))
        hits.sort(key=lambda hit: -hit[1])
        return hits[:n]

    def _exact(
        self, target: Any, query: np.ndarray, where: dict[str, Any], n: int
    ) -> list[tuple[str, float]] | None:
        """Exact cosine search over the records ``where`` admits, or None when there are many.

        A metadata filter inside a partition (``--doc``, issuer, dates: ``doc_id $in``) made
        Chroma's query take 130-220 ms at 100k chunks even when it admitted one document, while
        fetching those records' vectors takes ~20 ms and scoring them a fraction of that. A
        filter that is only ``doc_id $in`` (``--doc``, the routed pass) keeps the fetched vectors
        for the next query (fetching was 33 ms of a routed query at 100k chunks): a doc_id is the
        hash of the document's bytes, so its chunks and vectors never change; this process's
        writes clear the cache, and a record another process moved or deleted meanwhile is still
        checked against the catalogue before it becomes a passage (a miss, never a leak).
        """
        key = _doc_ids_key(target.name, where)
        cached = self._exact_cache.get(key) if key else None
        if cached is None:
            got = self._call(target.get, where=where, include=["embeddings"], limit=EXACT_MAX + 1)
            if len(got["ids"]) > EXACT_MAX:
                return None  # a broad filter: Chroma's filtered HNSW search is the better plan
            matrix = np.asarray(got["embeddings"], dtype=np.float32).reshape(-1, len(query))
            matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
            cached = (list(got["ids"]), matrix)
            if key:
                self._exact_cache[key] = cached
                if len(self._exact_cache) > EXACT_CACHE:
                    self._exact_cache.popitem(last=False)
        elif key:
            self._exact_cache.move_to_end(key)
        ids, matrix = cached
        if not ids:
            return []
        sims = (matrix @ query) / max(float(np.linalg.norm(query)), 1e-12)  # cosine, as Chroma
        top = np.argsort(-sims, kind="stable")[:n]
        return [(ids[i], float(sims[i])) for i in top]

    def delete(self, ids: Sequence[str]) -> None:
        """Remove records by id, from whichever partition holds them."""
        self._exact_cache.clear()
        for collection in self._all():
            self._delete_in(collection, ids)

    def _delete_in(self, collection: Any, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), 5000):
            self._call(collection.delete, ids=list(ids[start : start + 5000]))

    def set_metadata(self, ids: Sequence[str], changes: dict[str, Any]) -> None:
        """Merge ``changes`` into each record's metadata, moving it when its partition changes."""
        self._exact_cache.clear()
        for collection in self._all():
            for start in range(0, len(ids), 5000):
                batch = list(ids[start : start + 5000])
                got = self._call(collection.get, ids=batch, include=["metadatas", "embeddings"])
                if not got["ids"]:
                    continue
                metas = [{**(m or {}), **changes} for m in got["metadatas"]]
                if all(self._name(self._partition(m)) == collection.name for m in metas):
                    self._call(collection.update, ids=got["ids"], metadatas=metas)
                else:
                    self.upsert(got["ids"], np.asarray(got["embeddings"]), metas)

    def get_metadata(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Metadata by id (for checks and tests)."""
        out: dict[str, dict[str, Any]] = {}
        for collection in self._all():
            got = self._call(collection.get, ids=list(ids), include=["metadatas"])
            out.update(
                {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}
            )
        return out

    def count(self) -> int:
        """Number of records over all partitions."""
        return sum(int(self._call(c.count)) for c in self._all())

    @staticmethod
    def _call(method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except Exception as exc:
            raise StoreError(f"the vector index failed: {exc}") from exc


def _and(clauses: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _plan(where: dict[str, Any] | None) -> tuple[list[str] | None, bool, list[dict[str, Any]]]:
    """Split a filter into (allowed acl keys or None for any, active only?, other clauses)."""
    if not where:
        return None, False, []
    clauses = list(where["$and"]) if set(where) == {"$and"} else [where]
    acls: list[str] | None = None
    active_only = False
    rest = []
    for clause in clauses:
        value = clause.get("acl") if set(clause) == {"acl"} else None
        keys: list[str] | None = None
        if isinstance(value, str):
            keys = [value]
        elif isinstance(value, dict) and set(value) == {"$in"}:
            keys = [str(v) for v in value["$in"]]
        if keys is not None:  # several acl clauses intersect
            acls = keys if acls is None else [a for a in acls if a in keys]
        elif clause == {"active": True}:
            active_only = True
        else:
            rest.append(clause)
    return acls, active_only, rest


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


def _doc_ids_key(collection: str, where: dict[str, Any]) -> tuple[str, tuple[str, ...]] | None:
    """The exact-path cache key of a ``{"doc_id": {"$in": [...]}}`` filter; None for any other."""
    clause = where.get("doc_id") if len(where) == 1 else None
    if isinstance(clause, dict) and set(clause) == {"$in"}:
        return collection, tuple(sorted(clause["$in"]))
    return None
