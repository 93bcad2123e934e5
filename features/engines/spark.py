"""The Spark batch engine: the same expression trees compiled to Spark SQL over Parquet sources.

A cluster runs the definitions unchanged: each node asks ``SparkCompiler`` (the SQL engine's
``StageCompiler`` with Spark's window primitives) for SQL, so the features' parameters, the
shifted sums of std and beta, the 1e-12 flat rule and the EWMA's affine prefix scan are the
SQL engine's, expression for expression. Where DuckDB runs streaming ``OVER ()`` windows over
rows sorted once with padding between entities, Spark gets ``PARTITION BY entity ORDER BY ts``
windows: every window of a source shares that one specification, so Spark shuffles and sorts
the rows once and each stage is a pipelined Window operator over the sorted partitions, with
entities spread across executors. Sliding sums, counts and extremes are native frames
(``ROWS BETWEEN w-1 PRECEDING AND CURRENT ROW``).

The source tables a feature reads are exported from DuckDB to Parquet in a staging directory;
Spark runs the same base queries over them (``features.sources``: point-in-time fundamentals by
filing date) and writes one wide Parquet table (entity, ts, one column per feature), which
``features.batch`` loads and unpivots into ``feature_values`` exactly as for the other engines.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from features.definitions import FeatureDefinition
from features.engines.sql import StageCompiler
from features.expressions import EWMA_EPOCH
from features.sources import SOURCE_TABLES, STAGED, base_query, sql_date, unpivot
from ingestion.errors import ConfigError, StoreError

if TYPE_CHECKING:
    import duckdb

_W = "PARTITION BY entity ORDER BY ts"
_RUNNING = f"OVER ({_W} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
# SQL settings the compiled queries rely on: "x" is a column (as in DuckDB); NULL for a failed
# cast instead of an error is not needed (every division is guarded by NULLIF); UTC stamps.
SESSION_CONF = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",
    "spark.sql.session.timeZone": "UTC",
}


def _frame(window: int) -> str:
    return f"OVER ({_W} ROWS BETWEEN {window - 1} PRECEDING AND CURRENT ROW)"


class SparkCompiler(StageCompiler):
    """``StageCompiler`` with partitioned Spark windows: no padding rows, no order check.

    Each entity is its own window partition, so a lag or a frame never reaches another entity
    and the rows need neither padding nor the DuckDB pass's order check.
    """

    def _order(self, reach: int = 0) -> None:
        """Partitions keep entities apart: nothing to pad."""

    def _masked(self, sql: str, stage: int) -> tuple[str, int]:
        return self.operand(sql, stage)

    def lag(self, sql: str, stage: int, k: int = 1, default: str = "NULL") -> tuple[str, int]:
        """The value of ``sql`` ``k`` rows back in the same entity (missing before it)."""
        x, s = self.operand(sql, stage)
        return f"LAG({x}, {k}, {default}) OVER ({_W})", s

    def _back(self, col: str, stage: int, k: int, default: str) -> tuple[str, int]:
        return self.materialize(f"LAG({col}, {k}, {default}) OVER ({_W})", stage)

    def _running_count(self, sql: str, stage: int) -> tuple[str, int]:
        x, s = self.operand(sql, stage)
        return self.materialize(f"COUNT({x}) {_RUNNING}", s)

    def entity_count(self, sql: str, stage: int) -> tuple[str, int]:
        """Running count of non-missing ``sql`` since the entity's first row."""
        return self._running_count(sql, stage)

    def window_count(self, sql: str, stage: int, window: int) -> tuple[str, int]:
        """Count of non-missing ``sql`` over the entity's last ``window`` rows."""
        x, s = self.operand(sql, stage)
        return self.materialize(f"COUNT({x}) {_frame(window)}", s)

    def entity_first(self, sql: str, stage: int, when: str | None = None) -> tuple[str, int]:
        """The entity's first non-missing ``sql`` (where ``when`` holds, if given)."""
        x, s = self.operand(sql, stage)
        mark = when or x
        return self.materialize(
            f"FIRST(CASE WHEN {mark} IS NOT NULL THEN {x} END, TRUE) {_RUNNING}", s
        )

    def _sums(self, terms: list[str], stage: int, window: int) -> tuple[list[str], int]:
        out, top = [], stage
        for term in terms:
            t, s = self.operand(term, stage)
            col, s = self.materialize(f"SUM(COALESCE({t}, 0::DOUBLE)) {_frame(window)}", s)
            out.append(col)
            top = max(top, s)
        return out, top

    def rolling(
        self, kind: str, sql: str, stage: int, window: int, min_periods: int
    ) -> tuple[str, int]:
        """sum, mean, std (sample), max or min over the last ``window`` rows."""
        if kind not in ("max", "min"):
            return super().rolling(kind, sql, stage, window, min_periods)
        x, sx = self.operand(sql, stage)
        best, s = self.materialize(f"{kind.upper()}({x}) {_frame(window)}", sx)
        if max(min_periods, 1) <= 1:  # MAX/MIN are NULL exactly when the window holds no value
            return best, s
        n, sn = self.window_count(x, sx, window)
        return f"CASE WHEN {n} >= {min_periods} THEN {best} END", max(s, sn)

    def ewma(self, sql: str, stage: int, lam: float, min_periods: int) -> tuple[str, int]:
        """``y = lam*y + (1-lam)*x`` seeded with the first ``x``, as sums over value blocks.

        Unrolled, ``y_n = sum_i b_i lam^(c_n - c_i)`` over the values so far (``c``: running
        count of values; ``b``: the first value, then ``(1-lam)*x``). Values are cut into
        blocks of ``K`` by count; each is stored relative to its block's start,
        ``e_i = b_i lam^-(c_i - B_i K)``, so a running sum within the block and the previous
        block's total give ``y`` with no overflow. Older blocks are dropped: they weigh under
        ``lam^K``, the SQL engine's ``lam^EWMA_EPOCH`` (``K`` is ``EWMA_EPOCH`` unless
        ``lam^-K`` would pass 1e130). Six O(n) window passes instead of the 2,048-row
        doubling fold, whose dozens of stages cost Spark far more to plan than to run.
        """
        if not 0.0 < lam < 1.0:
            return super().ewma(sql, stage, lam, min_periods)
        k = max(1, min(self.epoch, int(300.0 / -math.log(lam))))
        x, s = self.operand(sql, stage)
        c, s = self.entity_count(x, s)
        block, s = self.materialize(f"{c} DIV {k}", s)
        b = f"CASE WHEN {x} IS NULL THEN 0::DOUBLE WHEN {c} = 1 THEN {x} ELSE {1 - lam!r} * {x} END"
        e, s = self.materialize(f"({b}) * POWER({lam!r}, CAST({block} * {k} - {c} AS DOUBLE))", s)
        part = f"PARTITION BY entity, {block}"
        cur, sc = self.materialize(
            f"SUM({e}) OVER ({part} ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
            s,
        )
        total, s = self.materialize(f"SUM({e}) OVER ({part})", s)
        lagged, s = self.materialize(f"LAG({total}, 1, 0::DOUBLE) OVER ({_W})", s)
        prev, s = self.materialize(
            f"FIRST({lagged}) OVER ({part} ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND "
            "CURRENT ROW)",
            s,
        )
        y = (
            f"POWER({lam!r}, CAST({c} - {block} * {k} AS DOUBLE)) * {cur} + "
            f"POWER({lam!r}, CAST({c} - ({block} - 1) * {k} AS DOUBLE)) * {prev}"
        )
        return f"CASE WHEN {c} >= {max(min_periods, 1)} THEN {y} END", max(s, sc)

    def stage_query(self, base_view: str) -> tuple[str, str]:
        """The WITH clause body over ``base_view`` and the name of the last stage."""
        parts = [f"s0 AS (SELECT * FROM {base_view})"]
        for k, columns in enumerate(self.stages, start=1):
            cols = ", ".join(f'{sql} AS "{name}"' for name, sql in columns)
            parts.append(f"s{k} AS (SELECT *{', ' + cols if cols else ''} FROM s{k - 1})")
        return ",\n".join(parts), f"s{len(self.stages)}"


def spark_query(
    source: str, definitions: list[FeatureDefinition], base_view: str, since: date | None
) -> str:
    """Spark SQL giving (entity, ts, one column per feature) over the rows of ``base_view``."""
    compiler = SparkCompiler(EWMA_EPOCH)
    memo: dict[str, tuple[str, int]] = {}
    for definition in definitions:
        sql, stage = definition.expr.compile(compiler, memo)
        compiler.materialize(sql, stage, name=definition.name)
    ctes, last = compiler.stage_query(base_view)
    names = ", ".join(f'"{d.name}"' for d in definitions)
    where = f"WHERE ts >= {sql_date(since)}" if since is not None else ""
    return f"WITH {ctes}\nSELECT entity, ts, {names} FROM {last} {where}"


class SparkEngine:
    """Apache Spark (``pyspark``): local mode, or a cluster given by ``master``.

    ``master`` is a Spark master URL (``spark://host:7077``, ``yarn``, ``k8s://...``,
    ``local[N]``); without it an active session is reused, else ``local[*]`` starts.
    ``staging`` is the directory for the exported sources and the results: on a cluster it
    must be a path every executor and the driver can read and write (a shared mount).
    """

    name = "spark"
    options: tuple[str, ...] = ("master", "staging")

    def __init__(self, master: str | None = None, staging: str | None = None) -> None:
        self.master = master
        self.staging = staging
        self._spark: Any = None

    def session(self) -> Any:
        """The SparkSession (created on first use), with ``SESSION_CONF`` set."""
        if self._spark is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError as exc:  # an optional scale dependency
                raise ConfigError(
                    "the spark engine needs pyspark",
                    hint="pip install pyspark (and a Java 17+ runtime)",
                ) from exc
            builder = SparkSession.builder.appName("sightline-features")
            if self.master is not None:
                builder = builder.master(self.master)
            elif SparkSession.getActiveSession() is None:
                builder = builder.master("local[*]")
            try:
                self._spark = builder.getOrCreate()
            except Exception as exc:  # noqa: BLE001 (py4j/JVM start-up errors vary)
                raise ConfigError(
                    f"could not start Spark ({self.master or 'local'}): {exc}".splitlines()[0],
                    hint="install a Java 17+ runtime (Debian: default-jre-headless) and check "
                    "--master",
                ) from exc
        for key, value in SESSION_CONF.items():
            self._spark.conf.set(key, value)
        return self._spark

    def materialize(
        self,
        con: duckdb.DuckDBPyConnection,
        source: str,
        definitions: list[FeatureDefinition],
        since: date | None,
    ) -> str:
        """Run the source on Spark; stage its values in ``STAGED``; return their long rows."""
        spark = self.session()
        if self.staging is not None:
            Path(self.staging).mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="sightline-spark-", dir=self.staging))
        try:
            table = SOURCE_TABLES[source][0]
            exported = work / f"{table}.parquet"
            con.execute(f"COPY (SELECT * FROM {table}) TO '{exported}' (FORMAT parquet)")
            views = [table]
            spark.read.parquet(str(exported)).createOrReplaceTempView(table)
            base_view = f"_sightline_{source}"
            spark.sql(base_query(source, definitions)).createOrReplaceTempView(base_view)
            views.append(base_view)
            out = work / "features"
            try:
                spark.sql(spark_query(source, definitions, base_view, since)).write.parquet(
                    str(out)
                )
            except Exception as exc:  # noqa: BLE001 (Spark's errors come through py4j)
                raise StoreError(
                    f"Spark failed on the {source} features: {exc}".splitlines()[0],
                    hint="see the Spark driver log; check the master and the staging directory",
                ) from exc
            finally:
                for view in views:
                    spark.catalog.dropTempView(view)
            names = ", ".join(f'"{d.name}"' for d in definitions)
            con.execute(f"DROP TABLE IF EXISTS {STAGED}")
            if any(out.glob("*.parquet")):
                con.execute(
                    f"CREATE TEMP TABLE {STAGED} AS SELECT entity, ts, {names} "
                    f"FROM read_parquet('{out}/*.parquet')"
                )
            else:  # no rows at all
                columns = ", ".join(f'"{d.name}" DOUBLE' for d in definitions)
                con.execute(f"CREATE TEMP TABLE {STAGED} (entity VARCHAR, ts DATE, {columns})")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return unpivot(STAGED, definitions)

    def version(self) -> str:
        """Spark's version and the master it ran on."""
        spark = self.session()
        return f"spark {spark.version} ({spark.sparkContext.master})"
