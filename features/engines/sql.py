"""The DuckDB SQL batch engine: feature definitions -> one vectorized query per source -> rows.

Each source has a base query giving one row per (entity, ts) with the input columns; its rows
are sorted once by (entity, ts), with padding rows before each entity, and the expression trees
add columns in stages (a stage is a ``SELECT *, ... FROM previous``) whose windows are streaming
``OVER ()`` passes (see ``StageCompiler``). The result is unpivoted to (entity, ts, feature,
value), keeping finite values only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from features.definitions import FeatureDefinition
from features.expressions import EWMA_EPOCH
from features.sources import ORDER_ERROR, base_query, entity_query, sql_date, trimmed, unpivot

if TYPE_CHECKING:
    import duckdb

_COLUMN_REF = re.compile(r'^"?[A-Za-z_][A-Za-z0-9_]*"?$')
_LITERAL = re.compile(r"^-?[0-9.]+(e-?[0-9]+)?(::DOUBLE)?$")
_RUNNING = "OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"


class StageCompiler:
    """Collects the columns each stage adds; nodes ask for lags, rolling folds and EWMAs.

    Every window is a *streaming* window (``OVER ()``) over the rows sorted once by
    (entity, ts): DuckDB evaluates those in one pass in input order, where each
    ``PARTITION BY entity ORDER BY ts`` stage would sort the whole table again and evaluate
    sliding frames with a segment tree.

    Entity boundaries: each entity's rows are preceded by ``reach`` padding rows (``_pad``,
    every input missing; the longest window or lag any node uses), so a window or lag of a
    real row never reaches the previous entity and needs no per-row mask. Window operands are
    missing on padding rows (``_masked``). Padding rows are dropped at the end by ``_keep``,
    which also checks on every row that the rows really arrive in (entity, ts) order and
    stops the query with ``ORDER_ERROR`` if not, so a plan that lost the order cannot give
    wrong values.

    Sliding aggregates are folded from power-of-two segments (doubling): level ``2s`` of a row
    combines level ``s`` of the row with level ``s`` of the row ``s`` back; a window of ``w``
    rows combines the levels of its binary digits. Each fold is an associative combine of a
    small state (sums; a max; an affine map), so a window costs O(log w) streaming passes
    whatever its length, and the sums are pairwise (rounding error grows with log w, not with
    the length of the table).
    """

    def __init__(self, epoch: int = EWMA_EPOCH) -> None:
        self.epoch = epoch
        self.stages: list[list[tuple[str, str]]] = []  # stages[k-1] = columns added by stage k
        self._count = 0
        self._names: dict[tuple[str, int], tuple[str, int]] = {}
        self.ordered = False
        self.reach = 0  # padding rows each entity needs: the longest window or lag
        self._masked_cols: set[str] = set()

    def materialize(self, sql: str, stage: int, name: str | None = None) -> tuple[str, int]:
        """Add ``sql`` as a column of stage ``stage + 1`` (bare column refs pass through)."""
        if name is None and (_COLUMN_REF.match(sql) or _LITERAL.match(sql)):
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
        """``sql`` as a column, to be read by a window or by several expressions.

        Streaming stages cost no sort, so every compound operand is computed once as a
        column rather than inlined wherever it is read.
        """
        return self.materialize(sql, stage)

    def _order(self, reach: int = 0) -> None:
        """Ask for the (entity, ts) order and ``reach`` padding rows per entity."""
        self.reach = max(self.reach, reach)
        if not self.ordered:
            self.ordered = True
            self.materialize("LAG(entity) OVER ()", 0, name="_pe")
            self.materialize("LAG(ts) OVER ()", 0, name="_pt")
            # Padding rows (ts NULL) come first in their entity, then ts strictly increases.
            in_order = (
                '"_pe" IS NULL OR "_pe" < entity '
                'OR ("_pe" = entity AND ("_pt" IS NULL OR "_pt" < ts))'
            )
            keep = f"""CASE WHEN {in_order} THEN "_pad" IS NULL ELSE error('{ORDER_ERROR}') END"""
            self.materialize(keep, 1, name="_keep")

    def _masked(self, sql: str, stage: int) -> tuple[str, int]:
        """``sql`` as a column that is missing on padding rows (a window operand)."""
        x, s = self.operand(sql, stage)
        if x in self._masked_cols:
            return x, s
        self._order()
        col, s = self.materialize(f'CASE WHEN "_pad" IS NULL THEN {x} END', s)
        self._masked_cols.add(col)
        return col, s

    def lag(self, sql: str, stage: int, k: int = 1, default: str = "NULL") -> tuple[str, int]:
        """The value of ``sql`` ``k`` rows back in the same entity (missing before it)."""
        x, s = self._masked(sql, stage)
        self._order(k)
        return f"LAG({x}, {k}, {default}) OVER ()", s

    def _back(self, col: str, stage: int, k: int, default: str) -> tuple[str, int]:
        """Column ``col`` (already missing on padding rows) of the row ``k`` back."""
        return self.materialize(f"LAG({col}, {k}, {default}) OVER ()", stage)

    def _shifted(
        self, cols: list[str], stage: int, k: int, identity: list[str]
    ) -> tuple[list[str], int]:
        """``cols`` of the row ``k`` back as columns; ``identity`` before the first row."""
        out, top = [], stage
        for col, ident in zip(cols, identity, strict=True):
            lagged, s = self._back(col, stage, k, ident)
            out.append(lagged)
            top = max(top, s)
        return out, top

    def _level(self, exprs: list[str], stage: int) -> tuple[list[str], int]:
        placed = [self.materialize(e, stage) for e in exprs]
        return [c for c, _ in placed], max(s for _, s in placed)

    def fold(
        self,
        leaf: list[str],
        stage: int,
        window: int,
        combine: Callable[[list[str], list[str]], list[str]],
        identity: list[str],
        *,
        overlap: bool = False,
    ) -> tuple[list[str], int]:
        """The state of the last ``window`` rows of the entity, folded with ``combine``.

        ``leaf`` is one row's state, ``combine(recent, older)`` joins adjacent segments and
        ``identity`` is the state of no rows ("NULL" for GREATEST/LEAST, which skip it).
        ``overlap`` allows overlapping segments (max/min): then only the largest level is
        needed.
        """
        top = 1 << (window.bit_length() - 1)  # the largest level the window holds
        rest = window - top
        # Non-overlapping: the window is the top level then, further back, one level per
        # binary digit of ``rest``, largest first. Each digit's segment is folded in as soon
        # as its level exists, so only the running fold is carried, not every level.
        offsets, offset = {}, top
        for bit in reversed(range(top.bit_length())):
            if rest & (1 << bit):
                offsets[1 << bit] = offset
                offset += 1 << bit
        cols, s = self._level(leaf, stage)
        size, acc = 1, None
        while True:
            if not overlap and size in offsets:
                seg, s2 = self._shifted(cols, s, offsets[size], identity)
                if acc is None:
                    acc = (seg, s2)
                else:
                    acc = self._level(combine(seg, acc[0]), max(s2, acc[1]))
            if size == top:
                break
            older, s2 = self._shifted(cols, s, size, identity)
            cols, s = self._level(combine(cols, older), max(s, s2))
            size *= 2
        if overlap and rest:
            older, s2 = self._shifted(cols, s, rest, identity)
            return self._level(combine(cols, older), max(s, s2))
        if acc is None:
            return cols, s
        return self._level(combine(cols, acc[0]), max(s, acc[1]))

    def _running_count(self, sql: str, stage: int) -> tuple[str, int]:
        x, s = self._masked(sql, stage)
        return self.materialize(f"COUNT({x}) {_RUNNING}", s)

    def entity_count(self, sql: str, stage: int) -> tuple[str, int]:
        """Running count of non-missing ``sql`` since the entity's first row (exact)."""
        total, s = self._running_count(sql, stage)
        # The running count is over all rows; it does not move on padding rows, so the
        # count before the entity is its value on the entity's padding.
        base, s = self.materialize(
            f'LAST_VALUE(CASE WHEN "_pad" THEN {total} END IGNORE NULLS) {_RUNNING}', s
        )
        return self.materialize(f"{total} - {base}", s)

    def window_count(self, sql: str, stage: int, window: int) -> tuple[str, int]:
        """Count of non-missing ``sql`` over the entity's last ``window`` rows (exact)."""
        total, s = self._running_count(sql, stage)
        self._order(window)
        back, s2 = self._back(total, s, window, "0")
        return self.materialize(f"{total} - {back}", max(s, s2))

    def entity_first(self, sql: str, stage: int, when: str | None = None) -> tuple[str, int]:
        """The entity's first non-missing ``sql`` (where ``when`` holds, if given)."""
        x, s = self._masked(sql, stage)
        seen, s = self.entity_count(when or x, s)
        mark = f"{seen} = 1 AND {when or x} IS NOT NULL"
        first, s = self.materialize(
            f"LAST_VALUE(CASE WHEN {mark} THEN {x} END IGNORE NULLS) {_RUNNING}", s
        )
        # Before the entity's first value the running LAST_VALUE still holds the previous
        # entity's; no value of this entity is shifted by it.
        return self.materialize(f"CASE WHEN {seen} > 0 THEN {first} END", s)

    def all_equal(self, sql: str, stage: int, window: int) -> tuple[str, int]:
        """Whether the last ``window`` rows all hold the same (non-missing) value."""
        x, s = self._masked(sql, stage)
        prev, s = self.materialize(*self.lag(x, s))
        same, s = self.materialize(f"CASE WHEN {x} = {prev} THEN 1 END", s)
        # window - 1 rows in a row each equal to the row before: the window is one value.
        repeats, s = self.window_count(same, s, window - 1)
        return f"{repeats} = {window - 1}", s

    def _sums(self, terms: list[str], stage: int, window: int) -> tuple[list[str], int]:
        self._order(window)
        leaf = []
        for term in terms:
            t, stage = self._masked(term, stage)
            leaf.append(f"COALESCE({t}, 0::DOUBLE)")
        return self.fold(leaf, stage, window, _add, ["0::DOUBLE"] * len(terms))

    def rolling(
        self, kind: str, sql: str, stage: int, window: int, min_periods: int
    ) -> tuple[str, int]:
        """sum, mean, std (sample), max or min over the last ``window`` rows."""
        x, s = self._masked(sql, stage)
        sx = s
        self._order(window)
        need = max(min_periods, 1)
        if kind in ("max", "min"):
            pick = "GREATEST" if kind == "max" else "LEAST"  # both skip NULLs, as MAX/MIN do
            (best,), s = self.fold(
                [x], s, window, lambda a, b: [f"{pick}({a[0]}, {b[0]})"], ["NULL"], overlap=True
            )
            if need <= 1:  # the fold is NULL exactly when the window holds no value
                return best, s
            n, sn = self.window_count(x, sx, window)
            return f"CASE WHEN {n} >= {need} THEN {best} END", max(s, sn)
        n, sn = self.window_count(x, s, window)
        if kind in ("sum", "mean"):
            (total,), s = self._sums([x], s, window)
            value = total if kind == "sum" else f"{total} / {n}"
            return f"CASE WHEN {n} >= {need} THEN {value} END", max(s, sn)
        if kind == "std":
            # Sums of x - (the entity's first value): the level of x cancels before squaring.
            shift, s = self.entity_first(x, s)
            d, s = self.materialize(f"{x} - {shift}", s)
            (s1, s2), s = self._sums([d, f"{d} * {d}"], s, window)
            flat, sr = self.all_equal(x, sx, window) if window > 1 else ("FALSE", s)
            var = f"GREATEST(({s2} - {s1} * {s1} / {n}) / ({n} - 1), 0::DOUBLE)"
            # A window of one repeated value has no spread; the sums would leave ~1e-16.
            std = f"CASE WHEN {flat} THEN 0::DOUBLE ELSE SQRT({var}) END"
            return f"CASE WHEN {n} >= {max(need, 2)} THEN {std} END", max(s, sn, sr)
        raise ValueError(f"unknown rolling kind {kind}")

    def beta(
        self, y_sql: str, x_sql: str, stage: int, window: int, min_periods: int
    ) -> tuple[str, int]:
        """OLS slope of y on x over the pairs of the last ``window`` rows."""
        (y, sy), (x, sx) = self._masked(y_sql, stage), self._masked(x_sql, stage)
        pair, s = self.materialize(
            f"CASE WHEN {x} IS NOT NULL AND {y} IS NOT NULL THEN 1 END", max(sx, sy)
        )
        n, sn = self.window_count(pair, s, window)
        # Shifted by the entity's first pair (the slope is shift-invariant): smaller sums,
        # less cancellation in the co-moments.
        x0, s0 = self.entity_first(x, s, when=pair)
        y0, s1 = self.entity_first(y, s, when=pair)
        dx, s = self.materialize(f"{x} - {x0}", max(s0, s1))
        dy, s = self.materialize(f"{y} - {y0}", s)
        terms = [f"{pair} * {dx}", f"{pair} * {dy}", f"{pair} * {dx} * {dx}"]
        (tx, ty, txx, txy), s = self._sums([*terms, f"{pair} * {dx} * {dy}"], s, window)
        var = f"({txx} - {tx} * {tx} / {n})"
        cov = f"({txy} - {tx} * {ty} / {n})"
        # x without spread over the window: no slope. The sums leave rounding noise around
        # zero, so "no spread" is anything below 1e-12 of the sum of squares (as streaming).
        return (
            f"CASE WHEN {n} >= {max(min_periods, 1)} AND {var} > 1e-12 * {txx} "
            f"THEN {cov} / {var} END",
            max(s, sn),
        )

    def ewma(self, sql: str, stage: int, lam: float, min_periods: int) -> tuple[str, int]:
        """``y = lam*y + (1-lam)*x`` seeded with the first ``x``, as a prefix scan.

        Each row is the affine map ``y -> a*y + b`` (first value: a=0, b=x; later values:
        a=lam, b=(1-lam)*x; missing: a=1, b=0); maps compose associatively, so the doubling
        fold gives the composition over the last ``epoch`` rows (rounded up to a power of
        two). Where that span reaches the entity's first value, a=0 there and ``b`` is exact;
        beyond it the older part is dropped, its weight being lam to the number of values in
        the span (1e-55 for lam=0.94 and 2,048 values).
        """
        x, s = self._masked(sql, stage)
        seen, s = self.entity_count(x, s)
        a = f"CASE WHEN {x} IS NULL THEN 1 WHEN {seen} = 1 THEN 0 ELSE {lam!r} END::DOUBLE"
        b = f"CASE WHEN {x} IS NULL THEN 0 WHEN {seen} = 1 THEN 1 ELSE {1 - lam!r} END * {x}"
        span = 1 << max(self.epoch - 1, 1).bit_length()
        (_, y), s = self.fold(
            [a, f"COALESCE({b}, 0::DOUBLE)"], s, span, _affine, ["1::DOUBLE", "0::DOUBLE"]
        )
        return f"CASE WHEN {seen} >= {max(min_periods, 1)} THEN {y} END", s

    def ctes(self, base: str, entities: str) -> tuple[str, str]:
        """The WITH clause body and the name of the last stage.

        ``entities`` lists (a superset of) the base's entities: each gets its padding rows.
        """
        if self.ordered:
            pad = (
                f"SELECT e.entity, TRUE AS _pad FROM ({entities}) e, "
                f"range({max(self.reach, 1)}) r(i)"
            )
            base = (
                f"SELECT * FROM (SELECT *, NULL::BOOLEAN AS _pad FROM ({base}) "
                f"UNION ALL BY NAME {pad}) ORDER BY entity, ts NULLS FIRST"
            )
        parts = [f"s0 AS ({base})"]
        for k, columns in enumerate(self.stages, start=1):
            if columns:
                cols = ", ".join(f'{sql} AS "{name}"' for name, sql in columns)
                parts.append(f"s{k} AS (SELECT *, {cols} FROM s{k - 1})")
            else:
                parts.append(f"s{k} AS (SELECT * FROM s{k - 1})")
        return ",\n".join(parts), f"s{len(self.stages)}"


def _add(a: list[str], b: list[str]) -> list[str]:
    return [f"({x} + {y})" for x, y in zip(a, b, strict=True)]


def _affine(recent: list[str], older: list[str]) -> list[str]:
    """``recent`` after ``older``: y -> a_r*(a_o*y + b_o) + b_r."""
    (a_r, b_r), (a_o, b_o) = recent, older
    return [f"({a_r} * {a_o})", f"({a_r} * {b_o} + {b_r})"]


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
        base = trimmed(base, since, max(lb or 0 for lb in lookbacks))
    ctes, last = compiler.ctes(base, entity_query(source, base))
    names = ", ".join(f'"{d.name}"' for d in definitions)
    keep = ['"_keep"'] if compiler.ordered else []
    since_cut = [f"ts >= {sql_date(since)}"] if since is not None else []
    where = "WHERE " + " AND ".join(keep + since_cut) if keep or since_cut else ""
    if wide:
        return f"WITH {ctes}\nSELECT entity, ts, {names} FROM {last} {where}"
    return f"WITH {ctes},\nwide AS (SELECT entity, ts, {names} FROM {last} {where})\n" + unpivot(
        "wide", definitions
    )


class SqlEngine:
    """DuckDB SQL: one streaming-window query per source (``feature_query``)."""

    name = "sql"
    options: tuple[str, ...] = ()

    def materialize(
        self,
        con: duckdb.DuckDBPyConnection,
        source: str,
        definitions: list[FeatureDefinition],
        since: date | None,
    ) -> str:
        """SQL giving (entity, ts, feature, value) for every finite value (nothing is staged)."""
        return feature_query(source, definitions, since=since)

    def version(self) -> str:
        """The DuckDB version that runs the query."""
        import duckdb

        return f"duckdb {duckdb.__version__}"
