"""Per-source state of the streaming engine: node state arrays, latest values, block evaluation.

``SourceState`` is the ``Evaluator`` (``features.windows``) the expression nodes update, for a
growing set of entities; the streaming engine (``features.streaming``) and its columnar event
path (``features.columnar``) both feed it blocks of observations.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from features.definitions import FeatureDefinition
from features.values import FeatureValue

if TYPE_CHECKING:
    import numpy as np

GAP_DAYS = 5
DAY_US = 86_400_000_000  # microseconds per day: every stamp is int64 microseconds since 1970
NAT = -(2**63)  # numpy's NaT as int64: "no value yet"
BLOCK_WIDTH = 256  # observations per entity in one block: bounds padding and summation error
EPOCH = datetime(1970, 1, 1)


def stamp_to_python(micros: int, *, daily: bool) -> date:
    """int64 microseconds since 1970 -> ``date`` (daily sources) or ``datetime`` (quotes)."""
    when = EPOCH + timedelta(microseconds=int(micros))
    return when.date() if daily else when


class SourceState:
    """Node state and latest values of one source, for a growing set of entities."""

    def __init__(self, definitions: list[FeatureDefinition], *, daily: bool) -> None:
        import numpy as np

        self.definitions = definitions
        self.daily = daily
        self.entities: list[str] = []
        self.index: dict[str, int] = {}
        self.capacity = 16
        self.arrays: dict[str, np.ndarray] = {}
        self.fills: dict[str, float] = {}
        n = len(definitions)
        self.latest = np.full((self.capacity, n), np.nan)
        self.latest_at = np.full((self.capacity, n), NAT, dtype=np.int64)  # microseconds
        self._rows = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros(0, dtype=np.int64)
        self._width = 1
        self._inputs: dict[str, np.ndarray] = {}
        self._lookup: tuple[int, Any] | None = None  # (entities indexed, pandas Index of them)

    # -- Evaluator protocol (features.expressions) --
    def column(self, name: str) -> np.ndarray:
        """Input column for the current block, (width, entities)."""
        return self._inputs[name]

    def state(self, key: str, shape: tuple[int, ...], fill: float) -> np.ndarray:
        """State array of a node, created on first use."""
        import numpy as np

        if key not in self.arrays:
            self.arrays[key] = np.full((self.capacity, *shape), fill)
            self.fills[key] = fill
        return self.arrays[key]

    def rows(self) -> np.ndarray:
        """Entity indices of the current block's columns."""
        return self._rows

    def lengths(self) -> np.ndarray:
        """Observations held for each entity of the current block."""
        return self._lengths

    def width(self) -> int:
        """Observations per entity the current block has room for."""
        return self._width

    # -- engine side --
    def register(self, names: Iterable[str]) -> np.ndarray:
        """Indices of ``names``, registering new ones (growing every array)."""
        import numpy as np

        names = list(names)
        for name in names:
            if name not in self.index:
                self.index[name] = len(self.entities)
                self.entities.append(name)
        if len(self.entities) > self.capacity:
            self._grow(max(len(self.entities), 2 * self.capacity))
        return np.array([self.index[e] for e in names], dtype=np.int64)

    def lookup(self, names: np.ndarray) -> np.ndarray:
        """Row of each name (an object array), -1 where it has none: one hash pass (pandas)."""
        import pandas as pd

        cached = self._lookup
        if cached is None or cached[0] != len(self.entities):
            cached = self._lookup = (len(self.entities), pd.Index(self.entities, dtype=object))
        target = pd.Index(names, dtype=object)  # as objects: no conversion to a string dtype
        return cached[1].get_indexer(target).astype("int64", copy=False)  # type: ignore[no-any-return]

    def _grow(self, capacity: int) -> None:
        import numpy as np

        def grown(arr: np.ndarray, fill: Any) -> np.ndarray:
            out = np.full((capacity, *arr.shape[1:]), fill, dtype=arr.dtype)
            out[: arr.shape[0]] = arr
            return out

        for key, arr in self.arrays.items():
            self.arrays[key] = grown(arr, self.fills[key])
        self.latest = grown(self.latest, np.nan)
        self.latest_at = grown(self.latest_at, NAT)
        self.capacity = capacity

    def apply_events(
        self,
        rows: np.ndarray,
        stamps: np.ndarray,
        inputs: dict[str, np.ndarray],
        *,
        emit: bool = False,
        grouped: bool = False,
        distinct: bool = False,
    ) -> list[FeatureValue]:
        """Apply observations ``(rows[i], stamps[i], inputs[..][i])``; return values when ``emit``.

        Each entity's observations must come in their order (other entities may interleave;
        ``grouped``: they do not, each entity's are contiguous already; ``distinct``: one
        observation per entity). They are laid out as time-major blocks: block[k, j] = the
        k-th observation here of the j-th entity.
        """
        import numpy as np

        out: list[FeatureValue] = []
        m = len(rows)
        if m == 0:
            return out
        if distinct:  # one step, no copies
            block = {k: v[None] for k, v in inputs.items()}
            self._block(rows, np.ones(m, dtype=np.int64), stamps[None], block, emit, out)
            return out
        order = np.arange(m) if grouped else np.argsort(rows, kind="stable")
        r = rows[order]
        first = np.empty(m, dtype=bool)
        first[0] = True
        np.not_equal(r[1:], r[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        if len(starts) == m:  # one observation per entity: one step
            ones = np.ones(m, dtype=np.int64)
            block = {k: v[None, order] for k, v in inputs.items()}
            self._block(r, ones, stamps[None, order], block, emit, out)
            return out
        counts = np.diff(np.append(starts, m))
        group = np.cumsum(first) - 1
        rank = np.arange(m) - starts[group]
        longest = int(counts.max())
        for lo in range(0, longest, BLOCK_WIDTH):
            width = min(BLOCK_WIDTH, longest - lo)
            active = counts > lo
            if lo == 0 and width == longest:
                bi, bj, src = group, rank, order
            else:
                take = (rank >= lo) & (rank < lo + width)
                bi = (np.cumsum(active) - 1)[group[take]]
                bj, src = rank[take] - lo, order[take]
            n = len(starts[active])
            block = {}
            for key, values in inputs.items():
                mat = np.full((width, n), np.nan)
                mat[bj, bi] = values[src]
                block[key] = mat
            when = np.full((width, n), NAT, dtype=np.int64)
            when[bj, bi] = stamps[src]
            lengths = np.minimum(counts[active] - lo, width)
            self._block(r[starts[active]], lengths, when, block, emit, out)
        return out

    def _block(
        self,
        rows: np.ndarray,
        lengths: np.ndarray,
        stamps: np.ndarray,
        inputs: dict[str, np.ndarray],
        emit: bool,
        out: list[FeatureValue],
    ) -> None:
        """Evaluate every feature on one block and publish the last finite value of each."""
        import numpy as np

        width = len(stamps)
        self._rows, self._lengths, self._inputs, self._width = rows, lengths, inputs, width
        memo: dict[str, np.ndarray] = {}
        if width == 1:  # one observation per entity: every feature in one pass
            with np.errstate(all="ignore"):  # inf/NaN become missing values (see Evaluator)
                values = np.stack([d.expr.evaluate(self, memo)[0] for d in self.definitions], 1)
            ok = np.isfinite(values)  # (entities, features)
            if ok.all():
                self.latest[rows] = values
                self.latest_at[rows] = stamps[0][:, None]
            else:
                r, f = np.nonzero(ok)
                self.latest[rows[r], f] = values[r, f]
                self.latest_at[rows[r], f] = stamps[0, r]
            if emit:
                self._emit(rows, stamps, values[None], ok[None], out)
            return
        padded = np.arange(width)[:, None] >= lengths
        for c, d in enumerate(self.definitions):
            with np.errstate(all="ignore"):  # inf/NaN become missing values (see Evaluator)
                values = d.expr.evaluate(self, memo)  # (width, entities)
            ok = np.isfinite(values)
            ok[padded] = False
            backwards = ok[::-1]
            r = np.flatnonzero(backwards.any(axis=0))
            t = width - 1 - backwards[:, r].argmax(axis=0)
            self.latest[rows[r], c] = values[t, r]
            self.latest_at[rows[r], c] = stamps[t, r]
            if emit:
                self._emit(rows, stamps, values[:, :, None], ok[:, :, None], out, feature=c)

    def _emit(
        self,
        rows: np.ndarray,
        stamps: np.ndarray,
        values: np.ndarray,
        ok: np.ndarray,
        out: list[FeatureValue],
        feature: int = 0,
    ) -> None:
        """Append a FeatureValue per ``ok`` cell of ``values`` (width, entities, features)."""
        import numpy as np

        when: dict[int, date] = {}
        for ti, ri, ci in zip(*np.nonzero(ok), strict=True):
            s = int(stamps[ti, ri])
            if s not in when:
                when[s] = stamp_to_python(s, daily=self.daily)
            d = self.definitions[feature + ci]
            out.append(
                FeatureValue(
                    self.entities[rows[ri]], d.name, d.version, when[s], float(values[ti, ri, ci])
                )
            )


class StreamState(Protocol):
    """What the columnar event path reads and updates on the engine (``StreamingEngine``)."""

    sources: dict[str, SourceState]
    open_date: dict[str, date | None]
    stats: Counter[str]
    rejected: deque[tuple[str, dict[str, object]]]
    market_prev: float | None
    universe: set[str] | None
