"""Batch materialization: feature definitions -> one vectorized DuckDB query per source -> rows.

Each source has a base query giving one row per (entity, ts) with the input columns; the
expression trees add window columns in stages (a stage is a ``SELECT *, ... FROM previous``) and the
result is unpivoted to (entity, ts, feature, value), keeping finite values only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from features.definitions import (
    MACRO_ENTITY,
    MARKET_TICKER,
    FeatureDefinition,
    by_source,
    select,
)
from features.expressions import EWMA_EPOCH

if TYPE_CHECKING:
    import duckdb

    from ingestion.warehouse import Warehouse

_COLUMN_REF = re.compile(r'^"?[A-Za-z_][A-Za-z0-9_]*"?$')


class StageCompiler:
    """Collects the columns each stage adds; nodes call ``materialize`` and ``window``."""

    def __init__(self, epoch: int = EWMA_EPOCH) -> None:
        self.epoch = epoch
        self.stages: list[list[tuple[str, str]]] = []  # stages[k-1] = columns added by stage k
        self._count = 0
        self._names: dict[tuple[str, int], tuple[str, int]] = {}

    def materialize(self, sql: str, stage: int, name: str | None = None) -> tuple[str, int]:
        """Add ``sql`` as a column of stage ``stage + 1`` (bare column refs pass through)."""
        if name is None and _COLUMN_REF.match(sql):
            return sql, stage
        if name is None and (sql, stage) in self._names:  # shared subexpression: one column
            return self._names[(sql, stage)]
        while len(self.stages) <= stage:
            self.stages.append([])
        if name is None:
            self._count += 1
            name = f"_c{self._count}"
        self.stages[stage].append((name, sql))
        self._names[(sql, stage)] = (f'"{name}"', stage + 1)
        return f'"{name}"', stage + 1

    def operand(self, sql: str, stage: int) -> tuple[str, int]:
        """``sql`` as a window-function argument.

        Window results become a column first (SQL cannot nest window functions); plain
        expressions are inlined, which saves a stage and the sort each stage costs.
        """
        if "OVER (" in sql:
            return self.materialize(sql, stage)
        return (sql if _COLUMN_REF.match(sql) else f"({sql})"), stage

    def window(self, order: str = "ts", partition: str = "entity", frame: str = "") -> str:
        """``OVER (PARTITION BY ... ORDER BY ... frame)``."""
        return f"OVER (PARTITION BY {partition} ORDER BY {order} {frame})".replace("  ", " ")

    def ctes(self, base: str) -> tuple[str, str]:
        """The WITH clause body and the name of the last stage."""
        parts = [f"s0 AS ({base})"]
        for k, columns in enumerate(self.stages, start=1):
            if columns:
                cols = ", ".join(f'{sql} AS "{name}"' for name, sql in columns)
                parts.append(f"s{k} AS (SELECT *, {cols} FROM s{k - 1})")
            else:
                parts.append(f"s{k} AS (SELECT * FROM s{k - 1})")
        return ",\n".join(parts), f"s{len(self.stages)}"


def _sql_date(value: date) -> str:
    return f"DATE '{value.isoformat()}'"


def base_query(source: str, definitions: list[FeatureDefinition]) -> str:
    """One row per (entity, ts) with the inputs the definitions read."""
    inputs = sorted(set().union(*(d.expr.inputs() for d in definitions)))
    if source == "bars":
        return (
            # An index's close x volume is not a dollar amount: indices get no liquidity inputs.
            "SELECT p.ticker AS entity, p.date AS ts, p.adj_close, "
            "CASE WHEN p.ticker NOT LIKE '^%' THEN p.close END AS close, "
            "CASE WHEN p.ticker NOT LIKE '^%' THEN p.volume END AS volume, "
            "m.market_log_return FROM prices p LEFT JOIN (SELECT date, "
            "LN(adj_close / LAG(adj_close) OVER (ORDER BY date)) AS market_log_return "
            f"FROM prices WHERE ticker = '{MARKET_TICKER}') m ON m.date = p.date"
        )
    if source == "quotes":
        return "SELECT ticker AS entity, ts, bid, ask, bid_size, ask_size FROM quotes"
    if source == "filings":
        pivot = ", ".join(
            f"MAX(f.value) FILTER (WHERE f.item = '{item}') AS \"{item}\"" for item in inputs
        )
        listed = ", ".join(f"'{item}'" for item in inputs)
        # Only the items the features read pick the period: a cover-page share count dated
        # after the balance sheet must not hide the balance sheet.
        return (
            f"WITH fi AS (SELECT * FROM fundamentals WHERE item IN ({listed})), "
            "fd AS (SELECT DISTINCT ticker, filing_date FROM fi), "
            "pe AS (SELECT fd.ticker, fd.filing_date, MAX(f.period_end) AS period_end FROM fd "
            "JOIN fi f ON f.ticker = fd.ticker AND f.filing_date <= fd.filing_date "
            "GROUP BY fd.ticker, fd.filing_date) "
            f"SELECT pe.ticker AS entity, pe.filing_date AS ts, {pivot} FROM pe "
            "LEFT JOIN fi f ON f.ticker = pe.ticker AND f.period_end = pe.period_end "
            "AND f.filing_date <= pe.filing_date GROUP BY pe.ticker, pe.filing_date"
        )
    if source == "macro":
        pivot = ", ".join(
            f"MAX(value) FILTER (WHERE series = '{series}') AS \"{series}\"" for series in inputs
        )
        listed = ", ".join(f"'{s}'" for s in inputs)
        return (
            f"SELECT '{MACRO_ENTITY}' AS entity, date AS ts, {pivot} FROM macro "
            f"WHERE series IN ({listed}) GROUP BY date"
        )
    raise ValueError(f"unknown source {source}")


def _trimmed(base: str, since: date, lookback: int) -> str:
    """Keep, per entity, only the rows from ``lookback`` rows before the first row >= since."""
    return (
        f"WITH b AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY entity ORDER BY ts) AS _rn "
        f"FROM ({base})), cut AS (SELECT entity, MIN(_rn) AS _first FROM b "
        f"WHERE ts >= {_sql_date(since)} GROUP BY entity) "
        f"SELECT b.* EXCLUDE (_rn) FROM b JOIN cut USING (entity) "
        f"WHERE b._rn >= cut._first - {lookback}"
    )


def feature_query(
    source: str,
    definitions: list[FeatureDefinition],
    *,
    since: date | None = None,
    epoch: int = EWMA_EPOCH,
    wide: bool = False,
) -> str:
    """SQL giving (entity, ts, feature, value) for every row and finite value of ``definitions``.

    With ``since``, only rows with ts >= since are returned, and when every definition has a
    bounded lookback the input is trimmed to the history those rows need. ``wide`` returns
    (entity, ts, one column per feature) instead, NULLs included.
    """
    compiler = StageCompiler(epoch)
    memo: dict[str, tuple[str, int]] = {}
    for definition in definitions:
        sql, stage = definition.expr.compile(compiler, memo)
        compiler.materialize(sql, stage, name=definition.name)
    base = base_query(source, definitions)
    lookbacks = [d.expr.lookback() for d in definitions]
    if since is not None and source in ("bars", "quotes") and None not in lookbacks:
        base = _trimmed(base, since, max(lb or 0 for lb in lookbacks))
    ctes, last = compiler.ctes(base)
    names = ", ".join(f'"{d.name}"' for d in definitions)
    where = f"WHERE ts >= {_sql_date(since)}" if since is not None else ""
    if wide:
        return f"WITH {ctes}\nSELECT entity, ts, {names} FROM {last} {where}"
    return (
        f"WITH {ctes},\nwide AS (SELECT entity, ts, {names} FROM {last} {where})\n"
        f"SELECT entity, ts, feature, value FROM "
        f"(UNPIVOT wide ON {names} INTO NAME feature VALUE value) WHERE isfinite(value)"
    )


def source_state(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """A fingerprint of a source table's contents: rows, last date, last load time."""
    table, column = {
        "bars": ("prices", "date"),
        "quotes": ("quotes", "ts"),
        "filings": ("fundamentals", "filing_date"),
        "macro": ("macro", "date"),
    }[source]
    loads = (
        f"(SELECT MAX(loaded_at) FROM loads WHERE table_name = '{table}')"
        if _has_table(con, "loads")
        else "NULL"
    )
    row = con.execute(f"SELECT COUNT(*), MAX({column}), {loads} FROM {table}").fetchall()[0]
    return "|".join(str(v) for v in row)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0][0]
    )


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
) -> list[RunReport]:
    """Compute features and replace their rows in ``feature_values`` in one write transaction.

    Args:
        warehouse: The warehouse to read sources from and write feature tables to.
        names: Features to compute (default: all).
        since: Recompute only rows with as_of >= since (a feature whose stored version differs
            from its definition is always recomputed in full).
        only_stale: Skip features whose last run used this version and the same source state.

    Returns:
        One report per selected feature.
    """
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
                    reports.extend(_write(con, source, batch, start, state))
    order = {d.name: i for i, d in enumerate(definitions)}
    return sorted(reports, key=lambda r: order[r.feature])


def _write(
    con: duckdb.DuckDBPyConnection,
    source: str,
    definitions: list[FeatureDefinition],
    since: date | None,
    state: str,
) -> list[RunReport]:
    query = feature_query(source, definitions, since=since)
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
    cut = f"AND as_of >= {_sql_date(since)}" if since is not None else ""
    con.execute(f"DELETE FROM feature_values WHERE feature IN ({names}) {cut}")
    con.execute("INSERT INTO feature_values SELECT * FROM _feature_batch")
    counts = dict(
        con.execute("SELECT feature, COUNT(*) FROM _feature_batch GROUP BY feature").fetchall()
    )
    con.execute("DROP TABLE _feature_batch")
    reports = []
    for d in definitions:
        rows = int(counts.get(d.name, 0))
        con.execute(
            "INSERT OR REPLACE INTO feature_runs VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [d.name, d.version, state, rows, since],
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
