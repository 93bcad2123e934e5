"""The "arrays" batch engine: compiled window kernels over whole sorted histories.

This engine reads each source from DuckDB once, as columnar arrays sorted by (entity, ts), and
evaluates every feature over whole entity histories with ``Node.over_history``: elementwise
nodes are numpy expressions over the flat columns, window nodes one compiled pass per entity
(``features.kernels``, numba), with the SQL engine's semantics. Entities are taken in groups of
about ``GROUP_ROWS`` rows (a group's columns stay cache-sized) and the groups run on as many
threads as DuckDB may use (the kernels and numpy release the GIL).

Memory: the sorted inputs stay in memory (8 bytes per row and input column, plus the
timestamps); values leave one group at a time, so the output is never held whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from features import kernels
from features.definitions import FeatureDefinition
from features.sources import ORDER_ERROR, STAGED, base_query, entity_query, unpivot
from ingestion.errors import InputError

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import pyarrow as pa


@dataclass
class SortedSource:
    """A source's rows sorted by (entity, ts): entity k holds rows starts[k] .. + lengths[k]."""

    entities: pa.Array  # entity names (strings), sorted
    lengths: np.ndarray
    starts: np.ndarray
    ts_us: np.ndarray  # per row, int64 microseconds since 1970
    daily: bool  # ts is a DATE (else a TIMESTAMP)
    inputs: dict[str, np.ndarray]  # per row, float64 (missing = NaN)

    @property
    def rows(self) -> int:
        """Number of rows."""
        return len(self.ts_us)

    def ts(self, positions: np.ndarray) -> pa.Array:
        """The ts of rows ``positions`` as Arrow, in the source's own type."""
        import numpy as np
        import pyarrow as pa

        us = self.ts_us[positions]
        if self.daily:
            return pa.array((us // DAY_US).astype(np.int32), pa.date32())
        return pa.array(us, pa.timestamp("us"))


DAY_US = 86_400_000_000
READ_BATCH = 1 << 17
# Rows per entity group: each column of a group (inputs, a few dozen intermediates) is ~2 MB,
# so a group's temporaries stay in cache instead of streaming through memory.
GROUP_ROWS = 1 << 18


def read_source(
    con: duckdb.DuckDBPyConnection, source: str, definitions: list[FeatureDefinition]
) -> SortedSource:
    """Read the base query of ``source`` once as arrays, sorted by (entity, ts).

    The rows stream out of DuckDB unsorted, in Arrow batches, and are sorted here: an ORDER BY
    in DuckDB materialized the whole sorted result next to its Arrow copy (1.4 GB peak at 10M
    bars, against 0.3 GB streamed). The sort is a compiled counting sort by entity code, then by
    time within an entity only where its rows are out of order (``kernels.group_order``: ~0.1 s
    at 10M rows where a stable argsort of (code, day) keys took 0.4-1 s), which also finds a
    repeated (entity, ts).

    Raises:
        InputError: An entity has two rows with the same ts (the SQL batch stops on it too).
    """
    import numpy as np
    import pyarrow as pa

    names = sorted(set().union(*(d.expr.inputs() for d in definitions)))
    base = base_query(source, definitions)
    ordered = [e for (e,) in con.sql(entity_query(source, base) + " ORDER BY entity").fetchall()]
    con.register("_feature_entities", pa.table({"entity": pa.array(ordered, pa.string())}))
    cols = "".join(f', CAST("{c}" AS DOUBLE) AS "{c}"' for c in names)
    # Entities arrive as their code in sorted order (a hash join in DuckDB): hashing 10M
    # strings in Python batches cost ~0.8 s; timestamps as int64 microseconds.
    query = (
        f"SELECT e.code::INTEGER AS code, epoch_us(b.ts::TIMESTAMP) AS ts{cols} "
        f"FROM ({base}) b JOIN (SELECT entity, (ROW_NUMBER() OVER () - 1) AS code "
        "FROM _feature_entities) e USING (entity)"
    )
    daily = str(con.sql(f"SELECT ts FROM ({base})").types[0]) == "DATE"
    rows = con.sql(f"SELECT COUNT(*) FROM ({base})").fetchall()[0][0]
    # Filled in place, batch by batch: per-batch copies then a concatenation fragmented the
    # heap (1.1 GB resident after the read at 10M bars, for 0.45 GB of arrays).
    codes = np.empty(rows, dtype=np.int32)
    stamps = np.empty(rows, dtype=np.int64)
    inputs = {c: np.empty(rows) for c in names}
    at = 0
    try:
        for batch in con.sql(query).to_arrow_reader(READ_BATCH):
            end = at + batch.num_rows
            if end > rows:
                break
            codes[at:end] = batch.column(0).to_numpy(zero_copy_only=False)
            stamps[at:end] = batch.column(1).to_numpy(zero_copy_only=False)
            for i, c in enumerate(names, start=2):
                inputs[c][at:end] = batch.column(i).to_numpy(zero_copy_only=False)  # null: NaN
            at = end
    finally:
        con.unregister("_feature_entities")
    if at != rows:
        raise InputError(f"the {source} source changed while it was read", hint="run again")
    order, repeated = kernels.group_order(codes, stamps, len(ordered))
    if order is not None:
        codes, stamps = codes[order], stamps[order]
        for c in names:
            inputs[c] = inputs[c][order]
        del order
    if repeated:
        raise InputError(
            ORDER_ERROR.replace("out of (entity, ts) order", "with a repeated (entity, ts)"),
            hint=f"the {source} source has two rows for one entity and time; deduplicate it",
        )
    lengths = np.bincount(codes, minlength=len(ordered)).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return SortedSource(pa.array(ordered, pa.string()), lengths, starts, stamps, daily, inputs)


@dataclass
class Block:
    """The values of one time chunk: cell i is row ``positions[i]`` of the source."""

    positions: np.ndarray
    entity: np.ndarray  # entity index of each cell
    values: list[np.ndarray]  # one per definition, aligned with positions (NaN: missing)


def evaluate_blocks(
    definitions: list[FeatureDefinition],
    src: SortedSource,
    group_rows: int | None = None,
    threads: int = 1,
) -> Iterator[Block]:
    """Evaluate every definition over the whole histories, one group of entities at a time.

    A group is consecutive entities holding about ``group_rows`` rows (default ``GROUP_ROWS``;
    at least one entity). Groups are independent: with ``threads`` > 1 they run on that many
    threads and blocks come out in completion order.
    """
    import numpy as np

    budget = group_rows or GROUP_ROWS
    groups, first, rows = [], 0, 0
    for k, n in enumerate(src.lengths.tolist()):
        rows += n
        if rows >= budget:
            groups.append(np.arange(first, k + 1))
            first, rows = k + 1, 0
    if first < len(src.lengths):
        groups.append(np.arange(first, len(src.lengths)))
    if threads <= 1 or len(groups) <= 1:
        for ids in groups:
            yield _group_block(definitions, src, ids)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        pending = [pool.submit(_group_block, definitions, src, ids) for ids in groups[:threads]]
        for ids in groups[threads:]:  # at most ``threads`` groups in flight (memory)
            yield pending.pop(0).result()
            pending.append(pool.submit(_group_block, definitions, src, ids))
        for future in pending:
            yield future.result()


@dataclass
class GroupHistory:
    """The ``History`` (``features.kernels``) of consecutive entities of a ``SortedSource``."""

    src: SortedSource
    lo: int  # first row of the group in the source
    hi: int
    starts: np.ndarray
    ends: np.ndarray

    def column(self, name: str) -> np.ndarray:
        """Input column ``name`` for the group's rows (a view, no copy)."""
        return self.src.inputs[name][self.lo : self.hi]

    def size(self) -> int:
        """Rows in the group."""
        return self.hi - self.lo


def _group_block(definitions: list[FeatureDefinition], src: SortedSource, ids: np.ndarray) -> Block:
    """Every definition over the whole histories of entities ``ids`` (consecutive)."""
    import numpy as np

    lo = int(src.starts[ids[0]])
    hi = int(src.starts[ids[-1]] + src.lengths[ids[-1]])
    starts = (src.starts[ids] - lo).astype(np.int64)
    history = GroupHistory(src, lo, hi, starts, starts + src.lengths[ids])
    memo: dict[str, np.ndarray] = {}
    with np.errstate(all="ignore"):  # inf/NaN become missing values, as in the SQL
        values = [d.expr.over_history(history, memo) for d in definitions]
    entity = np.repeat(ids.astype(np.int32), src.lengths[ids])
    return Block(np.arange(lo, hi), entity, values)


def _threads(con: duckdb.DuckDBPyConnection) -> int:
    """The engine uses as many threads as DuckDB may (its ``threads`` setting)."""
    return max(1, int(con.sql("SELECT current_setting('threads')").fetchall()[0][0]))


def _since_us(since: date | None) -> int | None:
    if since is None:
        return None
    import numpy as np

    return int(np.datetime64(datetime(since.year, since.month, since.day), "us").view(np.int64))


def stage_long(
    con: duckdb.DuckDBPyConnection,
    source: str,
    definitions: list[FeatureDefinition],
    since: date | None = None,
) -> str:
    """Compute ``definitions`` into temp table ``STAGED``; return SQL giving its long rows.

    The SQL gives (entity, ts, feature, value) for every finite value with ts >= ``since``
    (all when None), the shape of ``features.engines.sql.feature_query``. With ``since`` the whole
    history is still evaluated (the EWMA has unbounded lookback) and only the output is cut.
    The table is wide (entity, ts, one column per feature), unpivoted by the returned SQL as
    the SQL engine's query does: inserting long rows from numpy cost ~3x the evaluation.
    """
    import numpy as np

    src = read_source(con, source, definitions)
    cut = _since_us(since)
    names = ", ".join(f'"{d.name}"' for d in definitions)
    columns = ", ".join(f'"{d.name}" DOUBLE' for d in definitions)
    con.execute(f"DROP TABLE IF EXISTS {STAGED}")
    con.execute(
        f"CREATE TEMP TABLE {STAGED} (entity VARCHAR, "
        f"ts {'DATE' if src.daily else 'TIMESTAMP'}, {columns})"
    )
    for block in evaluate_blocks(definitions, src, threads=_threads(con)):
        if cut is not None:
            at = np.flatnonzero(src.ts_us[block.positions] >= cut)
            if not len(at):
                continue
            block = Block(block.positions[at], block.entity[at], [v[at] for v in block.values])
        con.register("_feature_chunk", _wide(src, definitions, block))
        con.execute(
            f"INSERT INTO {STAGED} SELECT CAST(entity AS VARCHAR), ts, {names} FROM _feature_chunk"
        )
        con.unregister("_feature_chunk")
    return unpivot(STAGED, definitions)


def _wide(src: SortedSource, definitions: list[FeatureDefinition], block: Block) -> pa.Table:
    """One block as (entity, ts, one column per feature); non-finite values are NULL."""
    import numpy as np
    import pyarrow as pa

    columns = {
        "entity": pa.DictionaryArray.from_arrays(
            pa.array(block.entity.astype(np.int32)), src.entities
        ),
        "ts": src.ts(block.positions),
    }
    for d, values in zip(definitions, block.values, strict=True):
        columns[d.name] = pa.array(values, mask=~np.isfinite(values))
    return pa.table(columns)


def write_wide_parquet(
    con: duckdb.DuckDBPyConnection,
    source: str,
    definitions: list[FeatureDefinition],
    out: str,
    group_rows: int | None = None,
) -> int:
    """Write (entity, ts, one column per feature; missing = NULL) to Parquet; return rows.

    The benchmark's output: the same wide shape as ``feature_query(..., wide=True)``.
    """
    import pyarrow.parquet as pq

    src = read_source(con, source, definitions)
    writer = None
    rows = 0
    try:
        for block in evaluate_blocks(definitions, src, group_rows, threads=_threads(con)):
            table = _wide(src, definitions, block)
            if writer is None:
                # Dictionary pages for the entity only: trying them on every float column cost
                # ~4x the write time (1M rows: 0.8 s CPU instead of 0.2 s).
                writer = pq.ParquetWriter(out, table.schema, use_dictionary=["entity"])
            writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


class ArraysEngine:
    """The streaming numpy kernels over whole sorted histories (``stage_long``)."""

    name = "arrays"
    options: tuple[str, ...] = ()

    def materialize(
        self,
        con: duckdb.DuckDBPyConnection,
        source: str,
        definitions: list[FeatureDefinition],
        since: date | None,
    ) -> str:
        """Stage the values in ``STAGED``; return SQL giving their (entity, ts, feature, value)."""
        return stage_long(con, source, definitions, since)

    def version(self) -> str:
        """The numpy version that evaluates the kernels."""
        import numpy as np

        return f"numpy {np.__version__}"
