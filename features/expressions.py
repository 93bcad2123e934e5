"""The feature vocabulary: expression trees that compile to DuckDB SQL and update incrementally.

A feature is declared once as a tree of these nodes. The batch path asks each node for SQL (window
functions over ``PARTITION BY entity ORDER BY ts``); the streaming path asks the same node to update
its state for a batch of new rows (one row per entity) and return the new values. Both read the
same parameters, so the two implementations cannot drift apart.

Semantics shared by both paths (and checked by the parity property test):

* a row is one observation of an entity (a daily bar, a quote, a filing date, a macro date);
  windows count *rows*, not calendar days, so a gap in the data widens the calendar span;
* missing values are NULL in SQL and NaN in numpy; arithmetic propagates them; a division by zero
  and any non-finite result is missing;
* ``Rolling(kind, x, window, min_periods)`` is defined on the last ``window`` rows and is missing
  unless at least ``min_periods`` of them hold a value;
* ``Ewma(x, lam)`` is the recursion ``y = lam*y + (1-lam)*x`` seeded with the first value of ``x``;
  rows where ``x`` is missing leave ``y`` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

# The batch EWMA is written in closed form, lam**-i * x summed per epoch of this many values, so
# that lam**-i cannot overflow; one epoch's end value is carried into the next. The carry of the
# epoch before that is dropped: its weight is lam**EWMA_EPOCH (1e-220 for lam=0.94), far below
# double precision.
EWMA_EPOCH = 8192


class SqlCompiler(Protocol):
    """What a node needs from the SQL compiler (see ``features.batch.StageCompiler``)."""

    epoch: int

    def materialize(self, sql: str, stage: int) -> tuple[str, int]:
        """Add ``sql`` as a column after ``stage``; return its column name and new stage."""

    def operand(self, sql: str, stage: int) -> tuple[str, int]:
        """``sql`` usable inside a window function (materialized only if it holds one)."""

    def window(self, order: str = "ts", partition: str = "entity", frame: str = "") -> str:
        """An OVER clause."""


class Evaluator(Protocol):
    """What a node needs from the streaming evaluator (see ``features.streaming``).

    A batch is a block: row i holds the next ``lengths()[i]`` observations of entity
    ``rows()[i]`` in columns ``0 .. lengths()[i] - 1``, oldest first; cells past a row's length
    are padding (missing inputs) whose values are ignored and must not reach the state.
    """

    def column(self, name: str) -> np.ndarray:
        """Input column ``name`` for the block, shape (rows, width)."""

    def state(self, key: str, shape: tuple[int, ...], fill: float) -> np.ndarray:
        """State array of node ``key`` for every entity (first axis = entity)."""

    def rows(self) -> np.ndarray:
        """Entity indices of the block's rows (unique)."""

    def lengths(self) -> np.ndarray:
        """Observations held by each row of the block (1 .. width)."""

    def width(self) -> int:
        """Columns of the block."""


class Node:
    """Base of every expression node."""

    def key(self) -> str:
        """Canonical text of the node: identifies shared subexpressions and feeds the version."""
        raise NotImplementedError

    def lookback(self) -> int | None:
        """Rows of history this node needs before a row (``None``: unbounded)."""
        raise NotImplementedError

    def inputs(self) -> set[str]:
        """Names of the input columns the node reads."""
        raise NotImplementedError

    @cached_property
    def cached_key(self) -> str:
        """``key()``, computed once (trees are immutable)."""
        return self.key()

    def compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        """SQL for this node and the stage whose columns it reads (memoized by key)."""
        k = self.cached_key
        if k not in memo:
            memo[k] = self._compile(sql, memo)
        return memo[k]

    def evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        """New values for the batch rows, updating state once per batch (memoized by key)."""
        k = self.cached_key
        if k not in memo:
            memo[k] = self._evaluate(ev, memo)
        return memo[k]

    def _compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        raise NotImplementedError

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    # Operators build trees: ``Col("a") / Col("b")``.
    def __add__(self, other: Node | float) -> Node:
        return BinOp("+", self, _node(other))

    def __sub__(self, other: Node | float) -> Node:
        return BinOp("-", self, _node(other))

    def __mul__(self, other: Node | float) -> Node:
        return BinOp("*", self, _node(other))

    def __truediv__(self, other: Node | float) -> Node:
        return BinOp("/", self, _node(other))


def _node(value: Node | float) -> Node:
    return value if isinstance(value, Node) else Const(float(value))


@dataclass(frozen=True, eq=False)
class Col(Node):
    """An input column of the source (``adj_close``, ``bid``, ``total_assets``, ``baa``)."""

    name: str

    def key(self) -> str:  # noqa: D102
        return f"col({self.name})"

    def lookback(self) -> int | None:  # noqa: D102
        return 0

    def inputs(self) -> set[str]:  # noqa: D102
        return {self.name}

    def _compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        return f'"{self.name}"', 0

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        return ev.column(self.name)


@dataclass(frozen=True, eq=False)
class Const(Node):
    """A number."""

    value: float

    def key(self) -> str:  # noqa: D102
        return repr(self.value)

    def lookback(self) -> int | None:  # noqa: D102
        return 0

    def inputs(self) -> set[str]:  # noqa: D102
        return set()

    def _compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        return f"CAST({self.value!r} AS DOUBLE)", 0

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        return np.full((len(ev.rows()), ev.width()), self.value)


def _max_lookback(*values: int | None) -> int | None:
    return None if any(v is None for v in values) else max(v or 0 for v in values)


@dataclass(frozen=True, eq=False)
class BinOp(Node):
    """``left op right`` for op in + - * / (division by zero is missing)."""

    op: str
    left: Node
    right: Node

    def key(self) -> str:  # noqa: D102
        return f"({self.left.key()} {self.op} {self.right.key()})"

    def lookback(self) -> int | None:  # noqa: D102
        return _max_lookback(self.left.lookback(), self.right.lookback())

    def inputs(self) -> set[str]:  # noqa: D102
        return self.left.inputs() | self.right.inputs()

    def _compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        a, sa = self.left.compile(sql, memo)
        b, sb = self.right.compile(sql, memo)
        if self.op == "/":
            b = f"NULLIF({b}, 0)"
        return f"({a} {self.op} {b})", max(sa, sb)

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        a = self.left.evaluate(ev, memo)
        b = self.right.evaluate(ev, memo)
        with np.errstate(all="ignore"):
            if self.op == "+":
                return a + b
            if self.op == "-":
                return a - b
            if self.op == "*":
                return a * b
            return np.where(b == 0, np.nan, a / np.where(b == 0, 1.0, b))


_FUNCS = {"ln": "LN", "abs": "ABS", "sqrt": "SQRT"}


@dataclass(frozen=True, eq=False)
class Func(Node):
    """An elementwise function: ``ln``, ``abs`` or ``sqrt`` (outside its domain: missing)."""

    name: str
    arg: Node

    def key(self) -> str:  # noqa: D102
        return f"{self.name}({self.arg.key()})"

    def lookback(self) -> int | None:  # noqa: D102
        return self.arg.lookback()

    def inputs(self) -> set[str]:  # noqa: D102
        return self.arg.inputs()

    def _compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        a, sa = self.arg.compile(sql, memo)
        if self.name in ("ln", "sqrt"):
            a, sa = sql.operand(a, sa)  # the CASE repeats its argument: compute a window once
        if self.name == "ln":
            return f"CASE WHEN {a} > 0 THEN LN({a}) END", sa
        if self.name == "sqrt":
            return f"CASE WHEN {a} >= 0 THEN SQRT({a}) END", sa
        return f"{_FUNCS[self.name]}({a})", sa

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        a = self.arg.evaluate(ev, memo)
        with np.errstate(all="ignore"):
            if self.name == "ln":
                return np.where(a > 0, np.log(np.where(a > 0, a, 1.0)), np.nan)
            if self.name == "sqrt":
                return np.where(a >= 0, np.sqrt(np.where(a >= 0, a, 0.0)), np.nan)
            return np.abs(a)


def ln(x: Node) -> Node:
    """Natural log."""
    return Func("ln", x)


def sqrt(x: Node) -> Node:
    """Square root."""
    return Func("sqrt", x)


def absolute(x: Node) -> Node:
    """Absolute value."""
    return Func("abs", x)


@dataclass(frozen=True, eq=False)
class Lag(Node):
    """The value of ``arg`` on the entity's previous row (missing on its first row)."""

    arg: Node

    def key(self) -> str:  # noqa: D102
        return f"lag({self.arg.key()})"

    def lookback(self) -> int | None:  # noqa: D102
        inner = self.arg.lookback()
        return None if inner is None else inner + 1

    def inputs(self) -> set[str]:  # noqa: D102
        return self.arg.inputs()

    def _compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        col, stage = sql.operand(*self.arg.compile(sql, memo))
        return f"LAG({col}) {sql.window()}", stage

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        x = self.arg.evaluate(ev, memo)
        prev = ev.state(self.cached_key, (), np.nan)
        rows = ev.rows()
        out = np.empty_like(x)
        out[:, 0] = prev[rows]
        out[:, 1:] = x[:, :-1]
        prev[rows] = _last_valid(ev, x)
        return out


ROLLING_SQL = {"mean": "AVG", "sum": "SUM", "std": "STDDEV_SAMP", "max": "MAX", "min": "MIN"}


@dataclass(frozen=True, eq=False)
class Rolling(Node):
    """An aggregate of ``arg`` over the entity's last ``window`` rows.

    ``kind`` is mean, sum, std (sample), max or min; missing unless ``min_periods`` rows hold
    a value.
    """

    kind: str
    arg: Node
    window: int
    min_periods: int

    def key(self) -> str:  # noqa: D102
        return f"{self.kind}({self.arg.key()}, {self.window}, {self.min_periods})"

    def lookback(self) -> int | None:  # noqa: D102
        inner = self.arg.lookback()
        return None if inner is None else inner + self.window - 1

    def inputs(self) -> set[str]:  # noqa: D102
        return self.arg.inputs()

    def _compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        col, stage = sql.operand(*self.arg.compile(sql, memo))
        w = sql.window(frame=f"ROWS BETWEEN {self.window - 1} PRECEDING AND CURRENT ROW")
        agg = ROLLING_SQL[self.kind]
        return f"CASE WHEN COUNT({col}) {w} >= {self.min_periods} THEN {agg}({col}) {w} END", stage

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        x = self.arg.evaluate(ev, memo)
        z = _history(ev, self.cached_key, self.window, x)
        if self.kind in ("mean", "sum"):
            return self._running(z)
        if self.kind in ("max", "min"):
            return self._extreme(z)
        return self._std(z)

    def _std(self, z: np.ndarray) -> np.ndarray:
        """Sample std of every window of ``z`` (history + block) from sums of ``z - shift``.

        The shift is the row's first present value, so the sums stay near the spread of the data
        rather than its level (no cancellation for prices far from zero). A window whose values
        are all equal is exactly zero, as in the batch (the sums alone would leave ~1e-16).
        """
        import numpy as np

        w = self.window
        present = ~np.isnan(z)
        shift = z[np.arange(len(z)), present.argmax(axis=1)]
        with np.errstate(all="ignore"):
            d = np.where(present, z - shift[:, None], 0.0)
        (s1, s2), n = _window_sums([d, d * d], present, w)
        # Equal run: the window's first value is present and every later one equals the one
        # before it (a "break" is a missing value or a change).
        breaks = np.ones(z.shape)
        breaks[:, 1:] = ~(present[:, 1:] & (z[:, 1:] == z[:, :-1]))
        runs = np.cumsum(breaks, axis=1)
        stop = z.shape[1] - w + 1
        flat = present[:, 1:stop] & (runs[:, w:] == runs[:, 1:stop])
        with np.errstate(all="ignore"):
            var = np.maximum((s2 - s1 * s1 / n) / (n - 1), 0.0)
            out = np.sqrt(np.where(flat, 0.0, var))
        return np.where((n >= self.min_periods) & (n > 1), out, np.nan)

    def _extreme(self, z: np.ndarray) -> np.ndarray:
        """Rolling max/min of every window of ``z`` (history + block), exactly, O(1) per row."""
        import numpy as np

        present = ~np.isnan(z)
        _, n = _window_sums([], present, self.window)
        best = _sliding_extreme(z, self.window, np.fmax if self.kind == "max" else np.fmin)
        return np.where(n >= self.min_periods, best, np.nan)

    def _running(self, z: np.ndarray) -> np.ndarray:
        """Mean/sum of every window of ``z`` (history + block) from cumulative sums."""
        import numpy as np

        present = ~np.isnan(z)
        (total,), n = _window_sums([np.where(present, z, 0.0)], present, self.window)
        if self.kind == "mean":
            with np.errstate(all="ignore"):
                total = total / n
        return np.where(n >= self.min_periods, total, np.nan)


def _last_valid(ev: Evaluator, x: np.ndarray) -> np.ndarray:
    """Each row's value at its last observation of the block."""
    import numpy as np

    return x[np.arange(len(x)), ev.lengths() - 1]


def _history(ev: Evaluator, key: str, window: int, x: np.ndarray) -> np.ndarray:
    """``x`` behind each row's last ``window`` values before the block: (rows, window + width).

    Older values are NaN where the entity has fewer. The state keeps the last ``window`` values
    (oldest first), so every window of the block is a slice of the result and the sums are
    recomputed from exact stored values each batch (no rounding builds up over a stream).
    """
    import numpy as np

    buf = ev.state(key + "#hist", (window,), np.nan)
    rows = ev.rows()
    z = np.concatenate([buf[rows], x], axis=1)
    lengths = ev.lengths()
    width = x.shape[1]
    if width == 1 or bool((lengths == width).all()):
        buf[rows] = z[:, width:]
    else:  # padded rows: keep the window ending at each row's last observation
        buf[rows] = np.take_along_axis(z, lengths[:, None] + np.arange(window), axis=1)
    return z


def _window_sums(
    terms: list[np.ndarray], present: np.ndarray, window: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """Sums of each term over the ``window`` cells ending at each block column, and the count.

    ``terms`` and ``present`` span history + block, (rows, window + width); the result is
    (rows, width). Sums are differences of cumulative sums along the row: their error is a few
    roundings of the cumulative sum, which is at most (window + width) / window times the
    window sum (the engine caps the width, keeping it within the parity tolerance).
    """
    import numpy as np

    out = []
    for term in [*terms, present.astype(float)]:
        c = np.cumsum(term, axis=1)
        out.append(c[:, window:] - c[:, :-window])
    return out[:-1], out[-1]


def _sliding_extreme(z: np.ndarray, window: int, better: np.ufunc) -> np.ndarray:
    """``better`` (np.fmax/np.fmin) of the ``window`` cells ending at each block column.

    van Herk / Gil-Werman: cut the row into blocks of ``window`` cells; a window is the suffix
    of one block and the prefix of the next, so two running extremes give every window in
    O(1) per cell, exactly.
    """
    import numpy as np

    rows, length = z.shape
    blocks = -(-length // window)
    padded = np.full((rows, blocks * window), np.nan)
    padded[:, :length] = z
    cut = padded.reshape(rows, blocks, window)
    prefix = better.accumulate(cut, axis=2).reshape(rows, -1)
    suffix = better.accumulate(cut[:, :, ::-1], axis=2)[:, :, ::-1].reshape(rows, -1)
    # window ending at t: [t - window + 1, t]; the first block column is t = window
    return better(suffix[:, 1 : length - window + 1], prefix[:, window:length])


@dataclass(frozen=True, eq=False)
class RollingBeta(Node):
    """OLS slope of ``y`` on ``x`` over the last ``window`` rows where both hold a value."""

    y: Node
    x: Node
    window: int
    min_periods: int

    def key(self) -> str:  # noqa: D102
        return f"beta({self.y.key()}, {self.x.key()}, {self.window}, {self.min_periods})"

    def lookback(self) -> int | None:  # noqa: D102
        inner = _max_lookback(self.y.lookback(), self.x.lookback())
        return None if inner is None else inner + self.window - 1

    def inputs(self) -> set[str]:  # noqa: D102
        return self.y.inputs() | self.x.inputs()

    def _compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        ycol, sy = sql.operand(*self.y.compile(sql, memo))
        xcol, sx = sql.operand(*self.x.compile(sql, memo))
        w = sql.window(frame=f"ROWS BETWEEN {self.window - 1} PRECEDING AND CURRENT ROW")
        return (
            f"CASE WHEN REGR_COUNT({ycol}, {xcol}) {w} >= {self.min_periods} "
            f"THEN REGR_SLOPE({ycol}, {xcol}) {w} END",
            max(sy, sx),
        )

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        y = self.y.evaluate(ev, memo)
        x = self.x.evaluate(ev, memo)
        zy = _history(ev, self.cached_key + "#y", self.window, y)
        zx = _history(ev, self.cached_key + "#x", self.window, x)
        pair = ~(np.isnan(zx) | np.isnan(zy))
        # Shifted by the row's first pair (slope is shift-invariant): smaller sums, less
        # cancellation in the co-moments.
        first = pair.argmax(axis=1)
        at = np.arange(len(pair))
        with np.errstate(all="ignore"):
            dx = np.where(pair, zx - zx[at, first][:, None], 0.0)
            dy = np.where(pair, zy - zy[at, first][:, None], 0.0)
        terms = [dx, dy, dx * dx, dx * dy]
        (sx, sy, sxx, sxy), n = _window_sums(terms, pair, self.window)
        with np.errstate(all="ignore"):
            var = sxx - sx * sx / n
            cov = sxy - sx * sy / n
            # x constant over the window: the batch's REGR_SLOPE is NULL; the sums leave
            # rounding noise around zero, so "no spread" is anything below 1e-12 of sxx.
            flat = var <= 1e-12 * sxx
            out = np.where(flat, np.nan, cov / np.where(flat, 1.0, var))
        return np.where(n >= self.min_periods, out, np.nan)


@dataclass(frozen=True, eq=False)
class Ewma(Node):
    """Exponentially weighted mean: ``y = lam*y + (1-lam)*x``, seeded with the first ``x``.

    Missing unless ``min_periods`` values of ``x`` have been seen.
    """

    arg: Node
    lam: float
    min_periods: int

    def key(self) -> str:  # noqa: D102
        return f"ewma({self.arg.key()}, {self.lam!r}, {self.min_periods})"

    def lookback(self) -> int | None:  # noqa: D102
        return None

    def inputs(self) -> set[str]:  # noqa: D102
        return self.arg.inputs()

    def _compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        lam, p = self.lam, sql.epoch
        x, stage = sql.operand(*self.arg.compile(sql, memo))
        cum = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
        n, stage = sql.materialize(f"COUNT({x}) {sql.window(frame=cum)}", stage)
        # i = n - 1 = index of the latest value seen; e = its epoch; j = index within the epoch.
        e = f"(CASE WHEN {n} > 0 THEN ({n} - 1) // {p} END)"
        j = f"(CASE WHEN {n} > 0 THEN ({n} - 1) % {p} END)"
        weight = f"CASE WHEN {n} = 1 THEN 1.0 ELSE {1 - lam!r} END"
        s, stage = sql.materialize(
            f"SUM({x} * {weight} * POW({lam!r}, -{j})) "
            f"{sql.window(partition=f'entity, {e}', frame=cum)}",
            stage,
        )
        local = f"(POW({lam!r}, {j}) * {s})"
        # The carry into epoch e is the end value of epoch e-1: the latest non-missing ``end``
        # in a running frame, in the (entity, ts) order the other windows share (a RANGE frame
        # over the epoch number was the slowest window of the query). On an epoch's own last
        # value the running frame already sees that epoch's end, so there the carry (weight
        # lam**EPOCH) is left out, as the carry of the epoch before always is.
        end = f"CASE WHEN {j} = {p - 1} THEN {local} END"
        carry, stage = sql.materialize(
            f"COALESCE(LAST_VALUE({end} IGNORE NULLS) {sql.window(frame=cum)}, 0.0)", stage
        )
        y = f"({local} + CASE WHEN {j} < {p - 1} THEN POW({lam!r}, {j} + 1) * {carry} ELSE 0 END)"
        return f"CASE WHEN {n} >= {self.min_periods} THEN {y} END", stage

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        x = self.arg.evaluate(ev, memo)
        y = ev.state(self.cached_key + "#y", (), np.nan)
        n = ev.state(self.cached_key + "#n", (), 0.0)
        rows = ev.rows()
        lengths = ev.lengths()
        cur, count = y[rows], n[rows]
        out = np.empty_like(x)
        lam = self.lam
        # The recursion runs along the block's columns, each a vector over its entities.
        for t in range(x.shape[1]):
            xt = x[:, t]
            seen = ~np.isnan(xt) & (lengths > t)
            nxt = np.where(count > 0, lam * cur + (1 - lam) * xt, xt)
            cur = np.where(seen, nxt, cur)
            count = count + seen
            out[:, t] = np.where(count >= self.min_periods, cur, np.nan)
        y[rows] = cur
        n[rows] = count
        return out
