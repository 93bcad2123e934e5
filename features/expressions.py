"""The feature vocabulary: expression trees that compile to DuckDB SQL and update incrementally.

A feature is declared once as a tree of these nodes. The batch path asks each node for SQL
(streaming window functions over rows sorted by entity and time, see ``features.batch``); the
streaming path asks the same node to update its state for a block of new rows and return the new
values (window kernels in ``features.windows``). Both read the same parameters, so the two
implementations cannot drift apart.

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

from features import windows
from features.windows import Evaluator

if TYPE_CHECKING:
    import numpy as np

# The batch EWMA composes each row's update over the last this many rows (a prefix scan, see
# ``features.batch.StageCompiler.ewma``); anything older is dropped: its weight is lam to the
# number of values in those rows (1e-55 for lam=0.94 and 2,048 values), far below double
# precision. 2,048 keeps every LAG offset of the scan (up to 1,024) in DuckDB's streaming window.
EWMA_EPOCH = 2048


class SqlCompiler(Protocol):
    """What a node needs from the SQL compiler (see ``features.batch.StageCompiler``)."""

    epoch: int

    def materialize(self, sql: str, stage: int) -> tuple[str, int]:
        """Add ``sql`` as a column after ``stage``; return its column name and new stage."""

    def operand(self, sql: str, stage: int) -> tuple[str, int]:
        """``sql`` usable inside a window function (materialized only if it holds one)."""

    def lag(self, sql: str, stage: int, k: int = 1) -> tuple[str, int]:
        """``sql`` of the entity's row ``k`` back (missing before its first row)."""

    def rolling(
        self, kind: str, sql: str, stage: int, window: int, min_periods: int
    ) -> tuple[str, int]:
        """A sliding aggregate over the entity's last ``window`` rows."""

    def beta(
        self, y_sql: str, x_sql: str, stage: int, window: int, min_periods: int
    ) -> tuple[str, int]:
        """OLS slope of y on x over the entity's last ``window`` rows."""

    def ewma(self, sql: str, stage: int, lam: float, min_periods: int) -> tuple[str, int]:
        """The EWMA recursion over the entity's rows."""


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

        return np.full((ev.width(), len(ev.rows())), self.value)


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
        if self.op == "+":
            return a + b
        if self.op == "-":
            return a - b
        if self.op == "*":
            return a * b
        out = np.divide(a, b)
        out[b == 0] = np.nan  # as NULLIF(b, 0) in SQL
        return out


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
        if self.name == "ln":
            out = np.log(a)
            out[~(a > 0)] = np.nan  # log(0) is -inf: missing, as the SQL's CASE
            return out
        if self.name == "sqrt":
            return np.sqrt(a)  # NaN below zero, as the SQL's CASE
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
        return sql.lag(*self.arg.compile(sql, memo))

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        x = self.arg.evaluate(ev, memo)
        prev = ev.state(self.cached_key, (), np.nan)
        rows = ev.rows()
        out = np.empty_like(x)
        out[0] = prev[rows]
        out[1:] = x[:-1]
        prev[rows] = windows.at_last(ev, x)
        return out


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
        col, stage = self.arg.compile(sql, memo)
        return sql.rolling(self.kind, col, stage, self.window, self.min_periods)

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        x = self.arg.evaluate(ev, memo)
        step = {"mean": self._step_running, "sum": self._step_running, "std": self._step_std}
        if windows.stepwise_is_cheaper(x, self.window):
            return windows.stepwise(ev, x, step.get(self.kind, self._step_extreme))
        z = windows.history(ev, self.cached_key, self.window, x, [""])[""]
        if self.kind in ("mean", "sum"):
            return self._running(ev, z)
        if self.kind in ("max", "min"):
            return self._extreme(ev, z)
        return self._std(ev, z)

    # Whole block at once (many observations per entity): windows as slices of history + block.
    def _running(self, ev: Evaluator, z: np.ndarray) -> np.ndarray:
        """Mean/sum of every window of ``z`` (history + block)."""
        import numpy as np

        key, w = self.cached_key, self.window
        present = ~np.isnan(z)
        (total,), n = windows.window_sums(ev, key, [np.where(present, z, 0.0)], present, w)
        final = windows.final_window(ev, z, w)
        windows.reanchor(ev, key, [np.where(np.isnan(final), 0.0, final)], ~np.isnan(final))
        return self._mean_or_sum(total, n)

    def _std(self, ev: Evaluator, z: np.ndarray) -> np.ndarray:
        """Sample std of every window of ``z`` (history + block) from sums of ``z - shift``.

        The shift is a value of the entity's recent window, so the sums stay near the spread of
        the data rather than its level (no cancellation for prices far from zero). A window whose
        values are all equal is exactly zero, as in the batch (the sums alone would leave ~1e-16).
        """
        import numpy as np

        key, w = self.cached_key, self.window
        rows, at = ev.rows(), np.arange(z.shape[1])
        present = ~np.isnan(z)
        shift = ev.state(key + "#shift", (), np.nan)
        k = shift[rows]  # the shift of the stored sums; none yet: nothing was summed
        k = np.where(np.isnan(k), z[present.argmax(axis=0), at], k)
        d = np.where(present, z - k, 0.0)
        (s1, s2), n = windows.window_sums(ev, key, [d, d * d], present, w)
        final = windows.final_window(ev, z, w)  # re-anchor on a value of the last window
        seen = ~np.isnan(final)
        k = final[seen.argmax(axis=0), at]
        shift[rows] = k
        e = np.where(seen, final - k, 0.0)
        windows.reanchor(ev, key, [e, e * e], seen)
        # Equal run: the value is present and equals the one before it ("break": missing or a
        # change); a run of `w` is a window of identical values.
        block = z[w:]
        brk = ~(present[w:] & (block == z[w - 1 : -1]))
        steps = np.arange(len(block))[:, None]
        last_break = np.maximum.accumulate(np.where(brk, steps, -1), axis=0)
        run_state = ev.state(key + "#run", (), 0.0)
        hit = last_break >= 0
        start = np.maximum(last_break, 0)
        restarted = np.where(present[w + start, at], steps - last_break + 1, 0)
        run = np.where(hit, restarted, run_state[rows] + steps + 1)
        run_state[rows] = np.minimum(windows.at_last(ev, run), w)
        return self._finish_std(s1, s2, n, run >= w)

    def _extreme(self, ev: Evaluator, z: np.ndarray) -> np.ndarray:
        """Rolling max/min of every window of ``z`` (history + block), exactly."""
        import numpy as np

        present = ~np.isnan(z)
        _, n = windows.window_sums(ev, self.cached_key, [], present, self.window)
        best = windows.sliding_extreme(z, self.window, np.fmax if self.kind == "max" else np.fmin)
        windows.store_sums(ev, self.cached_key, [], n)
        ev.state(self.cached_key + "#best", (), np.nan)[ev.rows()] = windows.at_last(ev, best)
        return np.where(n >= self.min_periods, best, np.nan)

    # One observation per entity at a time, O(1): running sums, the value leaving the window
    # read from the ring of the last ``window`` values.
    def _step_running(self, ev: Evaluator, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        import numpy as np

        key, w = self.cached_key, self.window
        old = windows.ring_push(ev, key, w, rows, {"": x})[""]
        if len(rows) * w <= windows.DIRECT_CELLS:  # few entities: summing their windows is cheaper
            ring = ev.state(key + "#hist", (w,), np.nan)[rows]
            present = ~np.isnan(ring)
            total = np.where(present, ring, 0.0).sum(axis=1)  # pairwise summation: no drift
            n = present.sum(axis=1, dtype=np.float64)
            ev.state(key + "#sums", (2,), 0.0)[rows] = np.column_stack([total, n])
            ev.state(key + "#comp", (1,), 0.0)[rows] = 0.0
            return self._mean_or_sum(total, n)
        new_in, old_in = ~np.isnan(x), ~np.isnan(old)
        add, sub = np.where(new_in, x, 0.0), np.where(old_in, old, 0.0)
        (total,), n = windows.step_sums(ev, key, rows, [add], [sub], new_in, old_in)
        return self._mean_or_sum(total, n)

    def _step_std(self, ev: Evaluator, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        import numpy as np

        key, w = self.cached_key, self.window
        ring = ev.state(key + "#hist", (w,), np.nan)
        prev = ring[rows, (ev.state(key + "#pos", (), 0.0)[rows].astype(np.int64) - 1) % w]
        old = windows.ring_push(ev, key, w, rows, {"": x})[""]
        new_in, old_in = ~np.isnan(x), ~np.isnan(old)
        shift = ev.state(key + "#shift", (), np.nan)
        k = shift[rows]
        k = np.where(np.isnan(k) & new_in, x, k)
        shift[rows] = k
        d_new = np.where(new_in, x - k, 0.0)
        d_old = np.where(old_in, old - k, 0.0)
        (s1, s2), n = windows.step_sums(
            ev, key, rows, [d_new, d_new * d_new], [d_old, d_old * d_old], new_in, old_in
        )
        run = ev.state(key + "#run", (), 0.0)
        run_now = np.where(new_in, np.where(x == prev, run[rows] + 1, 1.0), 0.0)
        run[rows] = np.minimum(run_now, w)
        return self._finish_std(s1, s2, n, run_now >= w)

    def _step_extreme(self, ev: Evaluator, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The extreme is ``better(extreme, x)`` unless the value leaving was it: then rescan."""
        import numpy as np

        key = self.cached_key
        better = np.fmax if self.kind == "max" else np.fmin
        old = windows.ring_push(ev, key, self.window, rows, {"": x})[""]
        _, n = windows.step_sums(ev, key, rows, [], [], ~np.isnan(x), ~np.isnan(old))
        best = ev.state(key + "#best", (), np.nan)
        cur = best[rows]
        rescan = old == cur  # NaN never equals: a missing value leaving changes nothing
        cur = better(cur, x)
        if rescan.any():
            ring = ev.state(key + "#hist", (self.window,), np.nan)
            cur[rescan] = better.reduce(ring[rows[rescan]], axis=1)
        best[rows] = cur
        return np.where(n >= self.min_periods, cur, np.nan)

    def _mean_or_sum(self, total: np.ndarray, n: np.ndarray) -> np.ndarray:
        import numpy as np

        if self.kind == "mean":
            total = total / n
        return np.where(n >= self.min_periods, total, np.nan)

    def _finish_std(
        self, s1: np.ndarray, s2: np.ndarray, n: np.ndarray, flat: np.ndarray
    ) -> np.ndarray:
        import numpy as np

        var = np.maximum((s2 - s1 * s1 / n) / (n - 1), 0.0)
        out = np.sqrt(np.where(flat, 0.0, var))
        return np.where((n >= self.min_periods) & (n > 1), out, np.nan)


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
        ycol, sy = self.y.compile(sql, memo)
        xcol, sx = self.x.compile(sql, memo)
        return sql.beta(ycol, xcol, max(sy, sx), self.window, self.min_periods)

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        y = self.y.evaluate(ev, memo)
        x = self.x.evaluate(ev, memo)
        key, w = self.cached_key, self.window
        if windows.stepwise_is_cheaper(x, w):
            both = np.stack([x, y], axis=2)  # one step = one (x, y) pair per entity
            return windows.stepwise(ev, both, self._step)
        z = windows.history(ev, key, w, {"#y": y, "#x": x}, ["#y", "#x"])
        zy, zx = z["#y"], z["#x"]
        pair = ~(np.isnan(zx) | np.isnan(zy))
        # Shifted by a pair of the entity's recent window (slope is shift-invariant): smaller
        # sums, less cancellation in the co-moments. The stored sums' shift; none yet: the
        # first pair here (nothing was summed).
        rows, at = ev.rows(), np.arange(pair.shape[1])
        shift = ev.state(key + "#shift", (2,), np.nan)
        k = shift[rows]
        first = pair.argmax(axis=0)
        none = np.isnan(k[:, 0])
        kx = np.where(none, zx[first, at], k[:, 0])
        ky = np.where(none, zy[first, at], k[:, 1])
        dx = np.where(pair, zx - kx, 0.0)
        dy = np.where(pair, zy - ky, 0.0)
        sums, n = windows.window_sums(ev, key, [dx, dy, dx * dx, dx * dy], pair, w)
        fx, fy = windows.final_window(ev, zx, w), windows.final_window(ev, zy, w)
        both = ~(np.isnan(fx) | np.isnan(fy))
        first = both.argmax(axis=0)
        kx, ky = fx[first, at], fy[first, at]
        shift[rows] = np.column_stack([kx, ky])
        ex = np.where(both, fx - kx, 0.0)
        ey = np.where(both, fy - ky, 0.0)
        windows.reanchor(ev, key, [ex, ey, ex * ex, ex * ey], both)
        return self._slope(sums, n)

    def _step(self, ev: Evaluator, rows: np.ndarray, xy: np.ndarray) -> np.ndarray:
        """One (x, y) pair per entity, O(1): running co-moment sums."""
        import numpy as np

        x, y = xy[:, 0], xy[:, 1]
        key = self.cached_key
        old = windows.ring_push(ev, key, self.window, rows, {"#y": y, "#x": x})
        new_in = ~(np.isnan(x) | np.isnan(y))
        old_in = ~(np.isnan(old["#x"]) | np.isnan(old["#y"]))
        shift = ev.state(key + "#shift", (2,), np.nan)
        k = shift[rows]
        k = np.where((np.isnan(k[:, 0]) & new_in)[:, None], xy, k)
        shift[rows] = k
        dx = np.where(new_in, x - k[:, 0], 0.0)
        dy = np.where(new_in, y - k[:, 1], 0.0)
        ox = np.where(old_in, old["#x"] - k[:, 0], 0.0)
        oy = np.where(old_in, old["#y"] - k[:, 1], 0.0)
        sums, n = windows.step_sums(
            ev, key, rows, [dx, dy, dx * dx, dx * dy], [ox, oy, ox * ox, ox * oy], new_in, old_in
        )
        return self._slope(sums, n)

    def _slope(self, sums: list[np.ndarray], n: np.ndarray) -> np.ndarray:
        import numpy as np

        sx, sy, sxx, sxy = sums
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
        col, stage = self.arg.compile(sql, memo)
        return sql.ewma(col, stage, self.lam, self.min_periods)

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        x = self.arg.evaluate(ev, memo)
        y = ev.state(self.cached_key + "#y", (), np.nan)
        n = ev.state(self.cached_key + "#n", (), 0.0)
        rows, lengths = ev.rows(), ev.lengths()
        seen = ~np.isnan(x)
        if len(x) > 1:
            seen &= np.arange(len(x))[:, None] < lengths  # padding is not an observation
        count = n[rows] + np.cumsum(seen, axis=0)  # values seen so far, (width, entities)
        first = seen & (count == 1)  # the entity's first value ever seeds the mean
        later = seen & ~first
        starts = first.any(axis=1)
        weighted = (1 - self.lam) * x
        cur = y[rows]
        out = np.empty_like(x)
        # The recursion runs along the block's time axis, each step a vector over entities;
        # rows where x is missing leave the mean unchanged.
        for t in range(len(x)):
            step = self.lam * cur
            step += weighted[t]
            np.copyto(cur, step, where=later[t])
            if starts[t]:
                np.copyto(cur, x[t], where=first[t])
            out[t] = cur
        y[rows] = cur
        n[rows] = count[-1]
        return np.where(count >= self.min_periods, out, np.nan)
