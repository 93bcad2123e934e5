"""The batch SQL's windows against a plain per-entity reference, at entity edges and in order.

The batch compiles every window to streaming passes over rows sorted once, with padding rows
between entities and power-of-two folds (``features.engines.sql.StageCompiler``). These tests check
that machinery on its own, with expressions the shipped features do not use: entities shorter
than a window, missing inputs, repeated values, a constant (present on every row, so padding
must not count), a lag of a constant, nested windows, a partial-window beta and an EWMA.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.definitions import FeatureDefinition
from features.engines.sql import feature_query
from features.expressions import (
    BinOp,
    Col,
    Const,
    Ewma,
    Func,
    Lag,
    Node,
)
from features.rolling import Rolling, RollingBeta
from features.sources import ORDER_ERROR

REL, ABS = 1e-9, 1e-12

EXPRESSIONS: dict[str, Node] = {
    "sum5": Rolling("sum", Col("bid"), 5, 2),
    "mean7_full": Rolling("mean", Col("bid") - Col("ask"), 7, 7),
    "std4": Rolling("std", Col("bid"), 4, 2),
    "std3_full": Rolling("std", Col("ask"), 3, 3),
    "max6": Rolling("max", Col("ask"), 6, 1),
    "min6": Rolling("min", Col("ask"), 6, 3),
    "rows3": Rolling("sum", Const(1.0), 3, 1),
    "lag_const": Lag(Const(2.0)),
    "lag2_bid": Lag(Lag(Col("bid"))),
    "nested": Rolling("min", Col("bid") / Rolling("max", Col("bid"), 3, 1), 4, 4),
    "beta6": RollingBeta(Col("bid"), Col("ask"), 6, 3),
    "ewma": Ewma(Col("bid_size"), 0.5, 2),
    "ln_ratio": Func("ln", Col("ask") / Lag(Col("ask"))),
}


def _definitions() -> list[FeatureDefinition]:
    return [
        FeatureDefinition(name, "quotes", expr, "x", "test expression", "test")
        for name, expr in EXPRESSIONS.items()
    ]


# --- the reference: each node evaluated row by row over one entity's rows, in ts order ------


def _window(values: list[float | None], i: int, window: int) -> list[float]:
    return [v for v in values[max(0, i - window + 1) : i + 1] if v is not None]


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def reference(node: Node, rows: list[dict[str, float | None]]) -> list[float | None]:
    """The node's value on each row, straight from the documented semantics."""
    n = len(rows)
    if isinstance(node, Col):
        return [r[node.name] for r in rows]
    if isinstance(node, Const):
        return [node.value] * n
    if isinstance(node, BinOp):
        a, b = reference(node.left, rows), reference(node.right, rows)
        out: list[float | None] = []
        for x, y in zip(a, b, strict=True):
            if x is None or y is None or (node.op == "/" and y == 0):
                out.append(None)
            else:
                ops = {"+": x + y, "-": x - y, "*": x * y}
                out.append(_finite(ops[node.op] if node.op != "/" else x / y))
        return out
    if isinstance(node, Func):
        a = reference(node.arg, rows)
        if node.name == "ln":
            return [math.log(x) if x is not None and x > 0 else None for x in a]
        if node.name == "sqrt":
            return [math.sqrt(x) if x is not None and x >= 0 else None for x in a]
        return [abs(x) if x is not None else None for x in a]
    if isinstance(node, Lag):
        a = reference(node.arg, rows)
        return [None, *a[:-1]][:n]
    if isinstance(node, Rolling):
        a = reference(node.arg, rows)
        out = []
        for i in range(n):
            w = _window(a, i, node.window)
            if len(w) < max(node.min_periods, 1):
                out.append(None)
            elif node.kind == "sum":
                out.append(math.fsum(w))
            elif node.kind == "mean":
                out.append(math.fsum(w) / len(w))
            elif node.kind == "max":
                out.append(max(w))
            elif node.kind == "min":
                out.append(min(w))
            elif len(w) < 2:
                out.append(None)
            else:
                m = math.fsum(w) / len(w)
                out.append(math.sqrt(math.fsum((v - m) ** 2 for v in w) / (len(w) - 1)))
        return out
    if isinstance(node, RollingBeta):
        ys, xs = reference(node.y, rows), reference(node.x, rows)
        out = []
        for i in range(n):
            lo = max(0, i - node.window + 1)
            pairs = [
                (x, y)
                for x, y in zip(xs[lo : i + 1], ys[lo : i + 1], strict=True)
                if x is not None and y is not None
            ]
            if len(pairs) < node.min_periods or len({x for x, _ in pairs}) == 1:
                out.append(None)
                continue
            mx = math.fsum(x for x, _ in pairs) / len(pairs)
            my = math.fsum(y for _, y in pairs) / len(pairs)
            var = math.fsum((x - mx) ** 2 for x, _ in pairs)
            out.append(math.fsum((x - mx) * (y - my) for x, y in pairs) / var)
        return out
    if isinstance(node, Ewma):
        a = reference(node.arg, rows)
        out, y, seen = [], None, 0
        for x in a:
            if x is not None:
                y = x if y is None else node.lam * y + (1 - node.lam) * x
                seen += 1
            out.append(y if seen >= max(node.min_periods, 1) else None)
        return out
    raise TypeError(node)


# --- running the batch SQL on a quotes table --------------------------------------------------

T0 = datetime(2024, 1, 2, 9, 30)


def _quotes_table(data: dict[str, list[dict[str, float | None]]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE quotes (ticker VARCHAR, ts TIMESTAMP, bid DOUBLE, ask DOUBLE, "
        "bid_size DOUBLE, ask_size DOUBLE)"
    )
    rows = [
        (ticker, T0 + timedelta(seconds=i), r["bid"], r["ask"], r["bid_size"], 1.0)
        for ticker, entity_rows in data.items()
        for i, r in enumerate(entity_rows)
    ]
    # Inserted newest first: the batch must not depend on the table's physical order.
    rows.reverse()
    if rows:
        con.executemany("INSERT INTO quotes VALUES (?, ?, ?, ?, ?, ?)", rows)
    return con


def _batch(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, datetime], float]:
    query = feature_query("quotes", _definitions())
    return {(e, f, ts): v for e, ts, f, v in con.execute(query).fetchall()}


def _arrays(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, datetime], float]:
    """The arrays engine (compiled kernels over whole histories) on the same table."""
    from features.engines.arrays import stage_long

    query = stage_long(con, "quotes", _definitions())
    return {(e, f, ts): v for e, ts, f, v in con.execute(query).fetchall()}


def _expected(data: dict[str, list[dict[str, float | None]]]) -> dict:
    out = {}
    for ticker, entity_rows in data.items():
        for name, expr in EXPRESSIONS.items():
            for i, value in enumerate(reference(expr, entity_rows)):
                if _finite(value) is not None:
                    out[(ticker, name, T0 + timedelta(seconds=i))] = value
    return out


def _mismatches(got: dict, want: dict) -> list[str]:
    bad = []
    for key in sorted(set(got) | set(want), key=str):
        a, b = got.get(key), want.get(key)
        if a is None or b is None or abs(a - b) > max(REL * max(abs(a), abs(b)), ABS):
            bad.append(f"{key}: batch={a} reference={b}")
    return bad


# Quarters from 0.25 to 100: exactly representable, so repeated values stay exactly equal, and
# distinct values in a window differ by >= 0.25. Std and beta come from window sums shifted by
# the entity's first value (as in the streaming path); their rounding error grows with
# (distance of the window's mean from that value / the window's spread)^2, 1.6e5 * 2.2e-16 here.
VALUES = st.one_of(st.none(), st.integers(1, 400).map(lambda k: k * 0.25))
ROW = st.fixed_dictionaries({"bid": VALUES, "ask": VALUES, "bid_size": VALUES})


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(
        st.sampled_from(["A", "BB", "C", "^IX"]), st.lists(ROW, max_size=14), max_size=4
    )
)
def test_batch_windows_match_the_reference(data: dict) -> None:
    con = _quotes_table(data)
    want = _expected(data)
    assert _mismatches(_batch(con), want) == []
    assert _mismatches(_arrays(con), want) == []


def test_short_entities_and_repeated_values() -> None:
    """One-row and two-row entities next to a long one; a run of equal values has std 0."""
    flat = {"bid": 2.5, "ask": 4.0, "bid_size": 1.0}
    data = {
        "A": [flat],
        "B": [{"bid": 1.0, "ask": None, "bid_size": None}, flat],
        "C": [flat] * 6
        + [{"bid": float(i), "ask": 3.0 + i, "bid_size": 2.0 * i} for i in range(1, 9)],
    }
    con = _quotes_table(data)
    for got in (_batch(con), _arrays(con)):
        assert _mismatches(got, _expected(data)) == []
        assert got[("C", "std3_full", T0 + timedelta(seconds=5))] == 0.0  # exactly, not ~1e-8
        assert ("C", "beta6", T0 + timedelta(seconds=5)) not in got  # x without spread: no slope
        assert got[("B", "rows3", T0 + timedelta(seconds=1))] == 2.0  # padding rows do not count


def test_rows_out_of_order_stop_the_query() -> None:
    """If the window passes ever saw rows out of (entity, ts) order, the query fails."""
    con = _quotes_table({"A": [{"bid": 1.0, "ask": 2.0, "bid_size": 1.0}] * 3})
    query = feature_query("quotes", _definitions())
    assert "ORDER BY entity, ts NULLS FIRST" in query
    unsorted = query.replace("ORDER BY entity, ts NULLS FIRST", "")
    with pytest.raises(duckdb.Error, match=re.escape(ORDER_ERROR)):
        con.execute(unsorted).fetchall()
