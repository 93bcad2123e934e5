"""A document's life after upload: publish (superseding by name), find, retag, delete.

The catalogue changes first, in one logged transaction, then the vector records follow: a search
checks every hit against the catalogue, so between the two steps a search can miss, never leak.
The embedding version check lives here too: vectors of two embedding versions (model, backend,
quantization) are not comparable, so a store holding one refuses queries and uploads of another.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ingestion.errors import ConfigError, InputError, NotFoundError
from retrieval.catalogue import Catalogue, acl_key, chunk_id
from retrieval.vectors import VectorIndex


class DocumentLifecycle:
    """Supersede, retag and delete documents in the catalogue and the vector index together."""

    def __init__(self, catalogue: Catalogue, vectors: VectorIndex) -> None:
        self.catalogue = catalogue
        self.vectors = vectors

    def publish(
        self, doc_id: str, doc_name: str, *, actor: str, upload: dict[str, Any]
    ) -> list[str]:
        """Activate a stored document; earlier versions of its name are superseded and hidden.

        Superseded versions stay resolvable for old citations but leave search.

        Returns:
            The superseded doc_ids.
        """
        old = self.catalogue.publish(doc_id, doc_name, actor=actor, upload=upload)
        for old_id in old:
            self.vectors.set_metadata(self.catalogue.chunk_ids(old_id), {"active": False})
        return old

    def get(self, doc_ref: str) -> dict[str, Any]:
        """One non-deleted document by doc_id, unique doc_id prefix (>= 8 chars) or doc_name."""
        found = (
            self.catalogue.find_documents(doc_ref)
            if len(doc_ref) >= 8 or not all(c in "0123456789abcdef" for c in doc_ref)
            else []
        )
        active = [d for d in found if d["status"] == "active"]
        if len(active) == 1:
            return active[0]
        if len(found) == 1:
            return found[0]
        if not found:
            raise NotFoundError(f"no document {doc_ref!r}", hint="see `sightline docs list`")
        raise InputError(
            f"{doc_ref!r} matches {len(found)} documents", hint="give more characters of the doc_id"
        )

    def delete(self, doc_ref: str, *, actor: str) -> dict[str, Any]:
        """Remove a document's chunks from both indexes; the event is recorded with who and when."""
        doc = self.get(doc_ref)
        self.catalogue.mark_deleted(doc, actor=actor)
        # The catalogue is already clean (searches stop returning it now); then the vectors.
        self.vectors.delete([chunk_id(doc["doc_id"], seq) for seq in range(doc["chunks"])])
        return {**doc, "status": "deleted"}

    def retag(self, doc_ref: str, groups: tuple[str, ...], *, actor: str) -> dict[str, Any]:
        """Change a document's (validated) access groups in the catalogue and on every vector."""
        doc = self.get(doc_ref)
        self.catalogue.set_access_groups(doc, groups, actor=actor)
        key = acl_key(groups)
        self.vectors.set_metadata(
            self.catalogue.chunk_ids(doc["doc_id"]), {"acl": key, "access_groups": key}
        )
        return {**doc, "access_groups": list(groups)}

    def documents(
        self, *, groups: Sequence[str] | None = None, statuses: Sequence[str] = ("active",)
    ) -> list[dict[str, Any]]:
        """Catalogue rows, optionally only those visible to ``groups``."""
        docs = self.catalogue.documents(statuses=statuses)
        if groups is None:
            return docs
        wanted = set(groups)
        return [d for d in docs if wanted & set(d["access_groups"])]

    def check_embedding_version(self, version: str) -> None:
        """Refuse to mix embedding versions in one store (their vectors are not comparable)."""
        stored = self.catalogue.embedding_models() - {version}
        if stored:
            raise ConfigError(
                f"the document store was embedded with {', '.join(sorted(stored))}, "
                f"but this process embeds with {version}",
                hint="set SIGHTLINE_EMBEDDING_BACKEND back to the store's backend, or run "
                "`sightline docs reembed` to re-embed every document with the current one",
            )
