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

from features import kernels, windows
from features.kernels import History
from features.windows import Evaluator

if TYPE_CHECKING:
    import numpy as np

# The batch EWMA composes each row's update over the last this many rows (a prefix scan, see
# ``features.engines.sql.StageCompiler.ewma``); anything older is dropped: its weight is lam to the
# number of values in those rows (1e-55 for lam=0.94 and 2,048 values), far below double
# precision. 2,048 keeps every LAG offset of the scan (up to 1,024) in DuckDB's streaming window.
EWMA_EPOCH = 2048


class SqlCompiler(Protocol):
    """What a node needs from the SQL compiler (see ``features.engines.sql.StageCompiler``)."""

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

    def over_history(self, h: History, memo: dict[str, np.ndarray]) -> np.ndarray:
        """Values for every row of whole histories ``h`` (memoized by key)."""
        k = self.cached_key
        if k not in memo:
            memo[k] = self._over_history(h, memo)
        return memo[k]

    def _compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        raise NotImplementedError

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def _over_history(self, h: History, memo: dict[str, np.ndarray]) -> np.ndarray:
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

    def _over_history(self, h: History, memo: dict[str, np.ndarray]) -> np.ndarray:
        return h.column(self.name)


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

    def _over_history(self, h: History, memo: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        return np.full(h.size(), self.value)


def max_lookback(*values: int | None) -> int | None:
    """The longest of the lookbacks (``None``, unbounded, wins)."""
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
        return max_lookback(self.left.lookback(), self.right.lookback())

    def inputs(self) -> set[str]:  # noqa: D102
        return self.left.inputs() | self.right.inputs()

    def _compile(self, sql: SqlCompiler, memo: dict[str, tuple[str, int]]) -> tuple[str, int]:
        a, sa = self.left.compile(sql, memo)
        b, sb = self.right.compile(sql, memo)
        if self.op == "/":
            b = f"NULLIF({b}, 0)"
        return f"({a} {self.op} {b})", max(sa, sb)

    def _evaluate(self, ev: Evaluator, memo: dict[str, np.ndarray]) -> np.ndarray:
        return self._apply(self.left.evaluate(ev, memo), self.right.evaluate(ev, memo))

    def _over_history(self, h: History, memo: dict[str, np.ndarray]) -> np.ndarray:
        return self._apply(self.left.over_history(h, memo), self.right.over_history(h, memo))

    def _apply(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        import numpy as np

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
        return self._apply(self.arg.evaluate(ev, memo))

    def _over_history(self, h: History, memo: dict[str, np.ndarray]) -> np.ndarray:
        return self._apply(self.arg.over_history(h, memo))

    def _apply(self, a: np.ndarray) -> np.ndarray:
        import numpy as np

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

    def _over_history(self, h: History, memo: dict[str, np.ndarray]) -> np.ndarray:
        return kernels.lag(h, self.arg.over_history(h, memo))


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

    def _over_history(self, h: History, memo: dict[str, np.ndarray]) -> np.ndarray:
        return kernels.ewma(h, self.arg.over_history(h, memo), self.lam, self.min_periods)
