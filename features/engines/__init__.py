"""The batch engines, one table: a name (the ``--engine`` flag) -> the class that computes.

Every engine compiles or evaluates the same definitions (``features.definitions``) for one
source and hands ``features.batch`` SQL giving (entity, ts, feature, value) rows, which it
writes to ``feature_values``; an engine that computes outside that query stages its values in
the temp table ``features.sources.STAGED`` first.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Protocol

from features.definitions import FeatureDefinition
from features.engines.arrays import ArraysEngine
from features.engines.spark import SparkEngine
from features.engines.sql import SqlEngine
from ingestion.errors import InputError

if TYPE_CHECKING:
    import duckdb


class BatchEngine(Protocol):
    """One batch engine."""

    name: str
    options: tuple[str, ...]  # keyword options its constructor takes (spark: master)

    def materialize(
        self,
        con: duckdb.DuckDBPyConnection,
        source: str,
        definitions: list[FeatureDefinition],
        since: date | None,
    ) -> str:
        """SQL giving (entity, ts, feature, value) for every finite value with ts >= since."""

    def version(self) -> str:
        """What ran the computation and its version (recorded in ``feature_runs``)."""


ENGINES: dict[str, type[BatchEngine]] = {
    "arrays": ArraysEngine,
    "sql": SqlEngine,
    "spark": SparkEngine,
}
DEFAULT_ENGINE = "arrays"


def engine_for(name: str, **options: str | None) -> BatchEngine:
    """The engine called ``name``, built with the ``options`` given (None: not given).

    Raises:
        InputError: Unknown engine name, or an option the engine does not take.
    """
    cls = ENGINES.get(name)
    if cls is None:
        raise InputError(
            f"unknown batch engine '{name}'", hint="use one of: " + ", ".join(sorted(ENGINES))
        )
    given = {k: v for k, v in options.items() if v is not None}
    for option in given:
        if option not in cls.options:
            takes = [n for n, c in sorted(ENGINES.items()) if option in c.options]
            raise InputError(
                f"--{option} applies to the {', '.join(takes) or 'no'} engine, not '{name}'",
                hint=f"drop --{option} or use --engine {takes[0] if takes else name}",
            )
    return cls(**given)
