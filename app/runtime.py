"""The long-lived objects one process needs, built once from the settings and passed down.

The CLI builds one per command, the Streamlit app one per server (cached). Lower layers never build
these themselves: they receive what they need (a Warehouse, a user's groups, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from app.home import prepare_home, use_private_umask
from app.settings import Settings
from app.users import User, UserStore
from features.schema import MIGRATIONS as FEATURE_MIGRATIONS
from ingestion.schemas import MIGRATIONS as TABLE_MIGRATIONS
from ingestion.warehouse import Migration, Warehouse
from tools.batch_store import MIGRATIONS as BATCH_MIGRATIONS
from tools.drift import MIGRATIONS as MONITOR_MIGRATIONS


def warehouse_migrations() -> tuple[Migration, ...]:
    """Every package's warehouse migrations, in order (tables first, then derived data)."""
    return (*TABLE_MIGRATIONS, *FEATURE_MIGRATIONS, *BATCH_MIGRATIONS, *MONITOR_MIGRATIONS)


@dataclass
class Runtime:
    """Settings plus the stores built from them (each built on first use)."""

    settings: Settings
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Everything this process writes under the data dir is owner-only, and a data dir that
        # others can read is refused before anything is read from it (app.home, docs/security.md).
        use_private_umask()
        prepare_home(self.settings.home, allow_shared=self.settings.allow_shared_home)

    @cached_property
    def warehouse(self) -> Warehouse:
        """The DuckDB warehouse in the data dir."""
        return Warehouse(self.settings.home, migrations=warehouse_migrations())

    @cached_property
    def users(self) -> UserStore:
        """The users file in the data dir."""
        return UserStore(self.settings.home)

    @cached_property
    def trail(self):  # noqa: ANN201 - app.trail.TrailStore, imported lazily (no work at import)
        """The answer trail chosen by ``SIGHTLINE_TRAIL`` (SQLite in the data dir by default)."""
        from app.trail import open_trail

        return open_trail(self.settings.home, self.settings.trail)

    @cached_property
    def registry(self):  # noqa: ANN201 - tools.registry.ModelRegistry, imported lazily
        """The model registry (inventory, versions, approvals) under the data dir's models/."""
        from tools.registry import ModelRegistry

        return ModelRegistry(self.settings.home)

    @cached_property
    def documents(self):  # noqa: ANN201 - retrieval.index.DocumentIndex, imported lazily
        """The research-document index (catalogue, keyword index, Chroma per SIGHTLINE_VECTORS)."""
        from retrieval.factory import open_document_index

        s = self.settings
        return open_document_index(
            s.home,
            vectors=s.vectors,
            device=s.embedding_device,
            backend=s.embedding_backend,
            max_mb=s.upload_max_mb,
            max_pages=s.upload_max_pages,
        )

    def user(self, name: str | None = None) -> User:
        """The named user (default: the ``SIGHTLINE_USER`` setting); unknown names are refused."""
        return self.users.get(name or self.settings.user)
