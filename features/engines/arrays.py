"""The "arrays" batch engine: the streaming path's numpy kernels run over whole sorted histories.

The SQL engine (``features.engines.sql``) spends ~7 ns per row per computed column in DuckDB's
single-threaded window chain. This engine reads each source from DuckDB once, as columnar arrays
sorted by (entity, ts), and evaluates every feature with the same ``Node.evaluate`` code the
streaming engine uses (``features.expressions``): no feature is written twice.

Layout: the histories are cut along time into chunks of ``BLOCK_WIDTH`` observations; chunk
``c`` is one time-major block holding observations ``c*W .. c*W + W - 1`` of *every* entity that
has them (column j = one entity, padding past its last observation). The evaluator keeps each
node's state between chunks exactly as the streaming engine does between micro-batches, so the
values are the streaming engine's values (the parity test proves those equal the SQL to 1e-9).
The block width is the streaming engine's ``BLOCK_WIDTH``, which bounds the cumulative-sum
rounding of the window kernels the same way.

Memory: the sorted inputs stay in memory (8 bytes per row and input column, plus the
timestamps); values leave one chunk at a time, so the output is never held whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from features.definitions import FeatureDefinition
from features.sources import ORDER_ERROR, STAGED, base_query, entity_query
from features.state import BLOCK_WIDTH
from ingestion.errors import InputError

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import pyarrow as pa


class HistoryEvaluator:
    """The ``Evaluator`` protocol over one time chunk of every entity's sorted history."""

    def __init__(self, entities: int) -> None:
        self.entities = entities
        self.arrays: dict[str, np.ndarray] = {}
        self._inputs: dict[str, np.ndarray] = {}
        self._rows: np.ndarray | None = None
        self._lengths: np.ndarray | None = None
        self._width = 1

    def load(self, rows: np.ndarray, lengths: np.ndarray, inputs: dict[str, np.ndarray]) -> None:
        """Make ``inputs`` (width, len(rows)) the current block."""
        self._rows, self._lengths, self._inputs = rows, lengths, inputs
        self._width = int(lengths.max())

    def column(self, name: str) -> np.ndarray:
        """Input column ``name`` of the block, (width, entities)."""
        return self._inputs[name]

    def state(self, key: str, shape: tuple[int, ...], fill: float) -> np.ndarray:
        """State array of a node for every entity, created on first use."""
        import numpy as np

        if key not in self.arrays:
            self.arrays[key] = np.full((self.entities, *shape), fill)
        return self.arrays[key]

    def rows(self) -> np.ndarray:
        """Entity indices of the block's columns."""
        assert self._rows is not None
        return self._rows

    def lengths(self) -> np.ndarray:
        """Observations of each entity in the block."""
        assert self._lengths is not None
        return self._lengths

    def width(self) -> int:
        """Observations per entity the block has room for."""
        return self._width


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
# Entities per block: a block's temporaries ((window + width) x entities doubles, a few dozen
# per block) stay cache-sized instead of streaming through memory.
ENTITY_GROUP = 256  # rows per Arrow batch streamed out of DuckDB


def read_source(
    con: duckdb.DuckDBPyConnection, source: str, definitions: list[FeatureDefinition]
) -> SortedSource:
    """Read the base query of ``source`` once as arrays, sorted by (entity, ts).

    The rows stream out of DuckDB unsorted, in Arrow batches, and are sorted here: an ORDER BY
    in DuckDB materialized the whole sorted result next to its Arrow copy (1.4 GB peak at 10M
    bars, against 0.3 GB streamed), and a stable sort on (entity code, day) is close to linear
    when the table is already stored in runs, as a warehouse load leaves it.

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
    order = _sort_order(codes, stamps // DAY_US if daily else stamps)
    if order is not None:
        codes, stamps = codes[order], stamps[order]
        for c in names:
            inputs[c] = inputs[c][order]
        del order
    if len(stamps) > 1 and bool(((np.diff(codes) == 0) & (np.diff(stamps) <= 0)).any()):
        raise InputError(
            ORDER_ERROR.replace("out of (entity, ts) order", "with a repeated (entity, ts)"),
            hint=f"the {source} source has two rows for one entity and time; deduplicate it",
        )
    lengths = np.bincount(codes, minlength=len(ordered)).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return SortedSource(pa.array(ordered, pa.string()), lengths, starts, stamps, daily, inputs)


def _sort_order(codes: np.ndarray, stamps: np.ndarray) -> np.ndarray | None:
    """Row order sorting by (code, stamp); None when the rows are in that order already."""
    import numpy as np

    if len(codes) < 2:
        return None
    step = np.diff(codes)
    if bool(((step > 0) | ((step == 0) & (np.diff(stamps) > 0))).all()):
        return None
    low, span = int(stamps.min()), int(stamps.max()) - int(stamps.min()) + 1
    if span * (int(codes.max()) + 1) < 2**62:  # one int64 key: a stable sort finds the runs
        key = codes.astype(np.int64)
        key *= span
        key += stamps
        key -= low
        return np.argsort(key, kind="stable")
    return np.lexsort((stamps, codes))


@dataclass
class Block:
    """The values of one time chunk: cell i is row ``positions[i]`` of the source."""

    positions: np.ndarray
    entity: np.ndarray  # entity index of each cell
    values: list[np.ndarray]  # one per definition, aligned with positions (NaN: missing)


def evaluate_blocks(
    definitions: list[FeatureDefinition],
    src: SortedSource,
    width: int | None = None,
    group: int | None = None,
    threads: int = 1,
) -> Iterator[Block]:
    """Evaluate every definition over the whole histories, one block at a time.

    Entities are taken ``group`` at a time (default ``ENTITY_GROUP``), each group through all
    its time chunks of ``width`` observations (default the streaming ``BLOCK_WIDTH``). Groups
    are independent: with ``threads`` > 1 they run on that many threads (numpy releases the
    GIL inside its kernels) and blocks come out in completion order.
    """
    import numpy as np

    width = width or BLOCK_WIDTH
    group = group or ENTITY_GROUP
    n = len(src.lengths)
    groups = [np.arange(a, min(a + group, n)) for a in range(0, n, group)]
    if threads <= 1 or len(groups) <= 1:
        for ids in groups:
            yield from _group_blocks(definitions, src, ids, width)
        return
    yield from _threaded(definitions, src, groups, width, threads)


def _threaded(
    definitions: list[FeatureDefinition],
    src: SortedSource,
    groups: list[np.ndarray],
    width: int,
    threads: int,
) -> Iterator[Block]:
    """``_group_blocks`` of every group on ``threads`` threads; a bounded queue of blocks."""
    import queue
    import threading

    todo: queue.Queue[np.ndarray] = queue.Queue()
    for ids in groups:
        todo.put(ids)
    done: queue.Queue[Block | BaseException | None] = queue.Queue(maxsize=2 * threads)
    stop = threading.Event()

    def work() -> None:
        try:
            while not stop.is_set():
                try:
                    ids = todo.get_nowait()
                except queue.Empty:
                    break
                for block in _group_blocks(definitions, src, ids, width):
                    if stop.is_set():
                        break
                    done.put(block)
        except BaseException as exc:  # noqa: BLE001 (re-raised in the consumer)
            done.put(exc)
        finally:
            done.put(None)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for t in workers:
        t.start()
    running = len(workers)
    try:
        while running:
            item = done.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        stop.set()
        while any(t.is_alive() for t in workers):  # unblock workers waiting on a full queue
            try:
                done.get(timeout=0.05)
            except queue.Empty:
                pass
        for t in workers:
            t.join()


def _group_blocks(
    definitions: list[FeatureDefinition], src: SortedSource, ids: np.ndarray, width: int
) -> Iterator[Block]:
    """The blocks of entities ``ids``, oldest chunk first, with one evaluator's state."""
    import numpy as np

    ev = HistoryEvaluator(len(ids))
    longest = int(src.lengths[ids].max())
    for lo in range(0, longest, width):
        rows = np.flatnonzero(src.lengths[ids] > lo)  # local to the group
        lengths = np.minimum(src.lengths[ids[rows]] - lo, width)
        w = int(lengths.max())
        offsets = np.arange(w)[:, None]
        mask = offsets < lengths
        full = bool(mask.all())
        where = src.starts[ids[rows]] + lo + offsets  # (w, n): the row of each cell
        if not full:
            where = np.where(mask, where, 0)
        inputs = {}
        for name, column in src.inputs.items():
            block = column[where]
            if not full:
                block[~mask] = np.nan
            inputs[name] = block
        ev.load(rows, lengths, inputs)
        memo: dict[str, np.ndarray] = {}
        values = []
        with np.errstate(all="ignore"):  # inf/NaN become missing values (see Evaluator)
            for d in definitions:
                v = d.expr.evaluate(ev, memo)
                values.append(v.ravel() if full else v[mask])
        entity = np.broadcast_to(ids[rows], (w, len(rows)))
        yield Block(
            where.ravel() if full else where[mask],
            entity.ravel() if full else entity[mask],
            values,
        )


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
    return (
        f"SELECT entity, ts, feature, value FROM (UNPIVOT {STAGED} ON {names} "
        "INTO NAME feature VALUE value) WHERE isfinite(value)"
    )


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
    width: int | None = None,
) -> int:
    """Write (entity, ts, one column per feature; missing = NULL) to Parquet; return rows.

    The benchmark's output: the same wide shape as ``feature_query(..., wide=True)``.
    """
    import pyarrow.parquet as pq

    src = read_source(con, source, definitions)
    writer = None
    rows = 0
    try:
        for block in evaluate_blocks(definitions, src, width, threads=_threads(con)):
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
