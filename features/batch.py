"""Batch materialization: run an engine per source and replace the rows of ``feature_values``.

The engines (``features.engines``: DuckDB SQL, numpy arrays, Spark) compute the same values from
the same definitions; this module decides what to recompute (versions, source state, ``since``),
writes the rows in one write transaction and records each run with its engine (lineage).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from features.definitions import FeatureDefinition, by_source, select
from features.engines import DEFAULT_ENGINE, BatchEngine, engine_for
from features.sources import STAGED, source_state, sql_date

if TYPE_CHECKING:
    import duckdb

    from ingestion.warehouse import Warehouse


@dataclass(frozen=True)
class RunReport:
    """What materialization did for one feature."""

    feature: str
    version: str
    status: str  # computed | fresh
    rows: int
    since: date | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {
            "feature": self.feature,
            "version": self.version,
            "status": self.status,
            "rows": self.rows,
            "since": self.since.isoformat() if self.since else None,
        }


def _runs(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    rows = con.execute("SELECT feature, version, source_state FROM feature_runs").fetchall()
    return {name: (version, state) for name, version, state in rows}


def materialize(
    warehouse: Warehouse,
    names: list[str] | tuple[str, ...] | None = None,
    *,
    since: date | None = None,
    only_stale: bool = False,
    engine: str | BatchEngine = DEFAULT_ENGINE,
) -> list[RunReport]:
    """Compute features and replace their rows in ``feature_values`` in one write transaction.

    Args:
        warehouse: The warehouse to read sources from and write feature tables to.
        names: Features to compute (default: all).
        since: Recompute only rows with as_of >= since (a feature whose stored version differs
            from its definition is always recomputed in full).
        only_stale: Skip features whose last run used this version and the same source state.
        engine: A name from ``features.engines.ENGINES`` (arrays, sql, spark) or an engine
            instance; every engine writes the same rows.

    Returns:
        One report per selected feature.

    Raises:
        InputError: Unknown engine.
    """
    runner = engine_for(engine) if isinstance(engine, str) else engine
    definitions = select(names)
    reports: list[RunReport] = []
    with warehouse.writer() as con:
        runs = _runs(con)
        for source, group in by_source(definitions).items():
            state = source_state(con, source)
            todo_full, todo_since = [], []
            for d in group:
                run = runs.get(d.name)
                if only_stale and run == (d.version, state):
                    reports.append(RunReport(d.name, d.version, "fresh", 0, None))
                elif since is None or run is None or run[0] != d.version:
                    todo_full.append(d)
                else:
                    todo_since.append(d)
            for batch, start in ((todo_full, None), (todo_since, since)):
                if batch:
                    reports.extend(_write(con, source, batch, start, state, runner))
    order = {d.name: i for i, d in enumerate(definitions)}
    return sorted(reports, key=lambda r: order[r.feature])


def _write(
    con: duckdb.DuckDBPyConnection,
    source: str,
    definitions: list[FeatureDefinition],
    since: date | None,
    state: str,
    engine: BatchEngine,
) -> list[RunReport]:
    query = engine.materialize(con, source, definitions, since)
    versions = ", ".join(f"('{d.name}', '{d.version}')" for d in definitions)
    names = ", ".join(f"'{d.name}'" for d in definitions)
    # Quote features keep the day's last value: feature_values holds one value per day.
    daily = (
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY entity, feature, CAST(ts AS DATE) "
        "ORDER BY ts DESC) = 1"
        if source == "quotes"
        else ""
    )
    con.execute("DROP TABLE IF EXISTS _feature_batch")
    con.execute(
        f"CREATE TEMP TABLE _feature_batch AS SELECT entity, feature, v.version, "
        f"CAST(ts AS DATE) AS as_of, value, now()::TIMESTAMP AS computed_at "
        f"FROM ({query}) JOIN (VALUES {versions}) v(feature, version) USING (feature) {daily}"
    )
    cut = f"AND as_of >= {sql_date(since)}" if since is not None else ""
    con.execute(f"DELETE FROM feature_values WHERE feature IN ({names}) {cut}")
    con.execute("INSERT INTO feature_values SELECT * FROM _feature_batch")
    counts = dict(
        con.execute("SELECT feature, COUNT(*) FROM _feature_batch GROUP BY feature").fetchall()
    )
    con.execute("DROP TABLE _feature_batch")
    con.execute(f"DROP TABLE IF EXISTS {STAGED}")
    ran = engine.version()
    reports = []
    for d in definitions:
        rows = int(counts.get(d.name, 0))
        con.execute(
            "INSERT OR REPLACE INTO feature_runs (feature, version, source_state, rows_written, "
            "since, computed_at, engine, engine_version) "
            "VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?)",
            [d.name, d.version, state, rows, since, engine.name, ran],
        )
        reports.append(RunReport(d.name, d.version, "computed", rows, since))
    return reports


def refresh(warehouse: Warehouse, say: Callable[[str], None]) -> str:
    """Materialize every feature whose version or source data changed (the demo step).

    Returns:
        A one-line summary.
    """
    say("materializing stale features")
    reports = materialize(warehouse, only_stale=True)
    computed = [r for r in reports if r.status == "computed"]
    if not computed:
        return f"all {len(reports)} features fresh"
    rows = sum(r.rows for r in computed)
    return f"{len(computed)} of {len(reports)} features computed, {rows:,} rows"
