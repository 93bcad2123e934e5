"""The answer-trail stores by name: ``SIGHTLINE_TRAIL`` is looked up here.

``sqlite`` (default) keeps the trail in ``$SIGHTLINE_HOME/trail.sqlite``; a ``postgresql://``
(or ``postgres://``) URL keeps it in that PostgreSQL database (a shared deployment). A setting is
either a name or a URL whose scheme is the name. Anything else is refused rather than silently
falling back to a local file. A new database is a dialect (``app.trail.chained.Dialect``) and
one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.trail.store import TrailStore
from ingestion.errors import ConfigError


def _sqlite(home: Path, setting: str) -> TrailStore:
    from app.trail.sqlite import SqliteTrailStore

    return SqliteTrailStore(Path(home) / "trail.sqlite")


def _postgres(home: Path, setting: str) -> TrailStore:
    from app.trail.postgres import PostgresTrailStore

    return PostgresTrailStore(setting)


# name (or URL scheme) -> factory(home, setting); imports happen only for the store chosen.
TRAIL_STORES: dict[str, Callable[[Path, str], TrailStore]] = {
    "sqlite": _sqlite,
    "postgresql": _postgres,
    "postgres": _postgres,
}


def open_trail(home: Path, setting: str = "sqlite") -> TrailStore:
    """The trail store chosen by the ``SIGHTLINE_TRAIL`` setting.

    Raises:
        ConfigError: an unknown setting.
    """
    name = setting.split("://", 1)[0] if "://" in setting else setting
    factory = TRAIL_STORES.get(name)
    if factory is None:
        raise ConfigError(
            f"SIGHTLINE_TRAIL: unknown answer-trail store {setting!r}",
            hint="use 'sqlite' (default) or a postgresql:// URL",
        )
    return factory(home, setting)
