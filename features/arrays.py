"""The "arrays" batch engine: the streaming path's numpy kernels run over whole sorted histories.

The SQL batch (``features.batch``) spends ~7 ns per row per computed column in DuckDB's
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

from features.batch import ORDER_ERROR, base_query
from features.definitions import FeatureDefinition
from ingestion.errors import InputError

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import pyarrow as pa

LONG_TABLE = "_feature_long"  # (entity, ts, feature, value) staged for features.batch._write


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

    entities: pa.Array  # entity names, in sort order
    lengths: np.ndarray
    starts: np.ndarray
    ts: pa.Array  # per row, the source's own type (DATE or TIMESTAMP)
    ts_us: np.ndarray  # per row, int64 microseconds since 1970
    inputs: dict[str, np.ndarray]  # per row, float64 (missing = NaN)

    @property
    def rows(self) -> int:
        """Number of rows."""
        return len(self.ts_us)


@dataclass
class Block:
    """The values of one time chunk: cell i is row ``positions[i]`` of the source."""

    positions: np.ndarray
    entity: np.ndarray  # entity index of each cell
    values: list[np.ndarray]  # one per definition, aligned with positions (NaN: missing)


def read_source(
    con: duckdb.DuckDBPyConnection, source: str, definitions: list[FeatureDefinition]
) -> SortedSource:
    """Read the base query of ``source`` once, sorted by (entity, ts), as arrays.

    Raises:
        InputError: An entity has two rows with the same ts (the SQL batch stops on it too).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    names = sorted(set().union(*(d.expr.inputs() for d in definitions)))
    cols = "".join(f', CAST("{c}" AS DOUBLE) AS "{c}"' for c in names)
    table = con.sql(
        f"SELECT entity, ts{cols} FROM ({base_query(source, definitions)}) ORDER BY entity, ts"
    ).to_arrow_table()
    encoded = pc.dictionary_encode(table.column("entity")).combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    lengths = np.bincount(codes, minlength=len(encoded.dictionary)).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    ts = table.column("ts").combine_chunks()
    stamps = ts.to_numpy(zero_copy_only=False).astype("datetime64[us]").view(np.int64)
    inputs = {}
    for c in names:
        column = table.column(c).combine_chunks()
        inputs[c] = column.fill_null(float("nan")).to_numpy(zero_copy_only=False)
    del table
    if len(stamps) > 1:
        same_entity = np.diff(codes) == 0
        if bool((same_entity & (np.diff(stamps) <= 0)).any()):
            raise InputError(
                ORDER_ERROR.replace("out of (entity, ts) order", "with a repeated (entity, ts)"),
                hint=f"the {source} source has two rows for one entity and time; deduplicate it",
            )
    dictionary = encoded.dictionary
    if len(dictionary) == 0:
        dictionary = pa.array([], pa.string())
    return SortedSource(dictionary, lengths, starts, ts, stamps, inputs)


def evaluate_blocks(
    definitions: list[FeatureDefinition], src: SortedSource, width: int | None = None
) -> Iterator[Block]:
    """Evaluate every definition over the whole histories, one time chunk at a time."""
    import numpy as np

    from features.streaming import BLOCK_WIDTH

    width = width or BLOCK_WIDTH
    ev = HistoryEvaluator(len(src.lengths))
    longest = int(src.lengths.max()) if len(src.lengths) else 0
    for lo in range(0, longest, width):
        rows = np.flatnonzero(src.lengths > lo)
        lengths = np.minimum(src.lengths[rows] - lo, width)
        w = int(lengths.max())
        offsets = np.arange(w)[:, None]
        mask = offsets < lengths
        full = bool(mask.all())
        where = src.starts[rows] + lo + offsets  # (w, n): the row of each cell
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
        entity = np.broadcast_to(rows, (w, len(rows)))
        yield Block(
            where.ravel() if full else where[mask],
            entity.ravel() if full else entity[mask],
            values,
        )


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
    """Compute ``definitions`` into temp table ``LONG_TABLE``; return SQL selecting its rows.

    The rows are (entity, ts, feature, value) for every finite value with ts >= ``since``
    (all when None), the shape of ``features.batch.feature_query``. With ``since`` the whole
    history is still evaluated (the EWMA has unbounded lookback) and only the output is cut.
    """
    import numpy as np
    import pyarrow as pa

    src = read_source(con, source, definitions)
    cut = _since_us(since)
    con.execute(f"DROP TABLE IF EXISTS {LONG_TABLE}")
    con.execute(
        f"CREATE TEMP TABLE {LONG_TABLE} (entity VARCHAR, ts {_ts_type(src.ts)}, "
        "feature VARCHAR, value DOUBLE)"
    )
    features = pa.array([d.name for d in definitions], pa.string())
    for block in evaluate_blocks(definitions, src):
        keep_row = None if cut is None else src.ts_us[block.positions] >= cut
        parts = []
        for i, values in enumerate(block.values):
            ok = np.isfinite(values)
            if keep_row is not None:
                ok &= keep_row
            at = np.flatnonzero(ok)
            if not len(at):
                continue
            parts.append(
                pa.table(
                    {
                        "entity": pa.DictionaryArray.from_arrays(
                            pa.array(block.entity[at].astype(np.int32)), src.entities
                        ),
                        "ts": src.ts.take(pa.array(block.positions[at])),
                        "feature": pa.DictionaryArray.from_arrays(
                            pa.array(np.full(len(at), i, dtype=np.int32)), features
                        ),
                        "value": pa.array(values[at]),
                    }
                )
            )
        if parts:
            con.register("_feature_chunk", pa.concat_tables(parts))
            con.execute(
                f"INSERT INTO {LONG_TABLE} SELECT CAST(entity AS VARCHAR), ts, "
                "CAST(feature AS VARCHAR), value FROM _feature_chunk"
            )
            con.unregister("_feature_chunk")
    return f"SELECT entity, ts, feature, value FROM {LONG_TABLE}"


def _ts_type(ts: pa.Array) -> str:
    import pyarrow as pa

    return "DATE" if pa.types.is_date(ts.type) else "TIMESTAMP"


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
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = read_source(con, source, definitions)
    writer = None
    rows = 0
    try:
        for block in evaluate_blocks(definitions, src, width):
            columns = {
                "entity": pa.DictionaryArray.from_arrays(
                    pa.array(block.entity.astype(np.int32)), src.entities
                ),
                "ts": src.ts.take(pa.array(block.positions)),
            }
            for d, values in zip(definitions, block.values, strict=True):
                columns[d.name] = pa.array(values, mask=~np.isfinite(values))
            table = pa.table(columns)
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema)
            writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows
