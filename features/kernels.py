"""Compiled window kernels (numba) over whole entity histories, for the arrays batch engine.

A history is one flat array per column holding several entities' rows back to back, sorted by
(entity, ts); entity k holds rows ``starts[k] .. ends[k] - 1``. Each kernel makes one pass per
entity with O(1) work per row: compensated running sums (Neumaier) for sums, std and beta, a
monotonic deque for max and min, the exact recursion for the EWMA. The semantics are the SQL
engine's (``features.engines.sql``): missing values (NaN) are skipped, ``min_periods`` counts
values, std and beta sum values shifted by the entity's first value (pair), a window of one
repeated value has std 0, beta is missing where x has no spread (below 1e-12 of its sum of
squares).

The kernels are compiled on first use (``cache=True``: once per installation, kept in
``__pycache__``) and release the GIL, so entity groups run on several threads. Importing this
module does not import numba.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np  # the kernels' globals: numba resolves ``np`` when it compiles them

_LOCK = threading.Lock()
_COMPILED: dict[str, Any] = {}


class History(Protocol):
    """Whole histories of a group of entities (see the module docstring)."""

    starts: np.ndarray  # int64, first row of each entity
    ends: np.ndarray  # int64, one past its last row

    def column(self, name: str) -> np.ndarray:
        """Input column ``name``, float64, one value per row (missing = NaN)."""

    def size(self) -> int:
        """Rows in the history."""


def _compiled(fn: Callable[..., Any]) -> Any:
    """``fn`` compiled by numba (once; compiling takes the lock so threads wait for it)."""
    jit = _COMPILED.get(fn.__name__)
    if jit is None:
        with _LOCK:
            jit = _COMPILED.get(fn.__name__)
            if jit is None:
                import numba

                jit = numba.njit(cache=True, nogil=True, error_model="numpy")(fn)
                _COMPILED[fn.__name__] = jit
    return jit


def _lag(x, starts, ends):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    out = np.empty_like(x)
    for s in range(len(starts)):
        a, b = starts[s], ends[s]
        if b > a:
            out[a] = np.nan
            for i in range(a + 1, b):
                out[i] = x[i - 1]
    return out


def _rolling_sum(x, starts, ends, window, need, mean):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    out = np.empty_like(x)
    for s in range(len(starts)):
        a, b = starts[s], ends[s]
        total, comp, n = 0.0, 0.0, 0
        for i in range(a, b):
            v = x[i]
            if v == v:
                t = total + v
                comp += (total - t) + v if abs(total) >= abs(v) else (v - t) + total
                total = t
                n += 1
            j = i - window
            if j >= a:
                u = -x[j]
                if u == u:
                    t = total + u
                    comp += (total - t) + u if abs(total) >= abs(u) else (u - t) + total
                    total = t
                    n -= 1
            if n >= need:
                out[i] = (total + comp) / n if mean else total + comp
            else:
                out[i] = np.nan
    return out


def _rolling_std(x, starts, ends, window, need):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    out = np.empty_like(x)
    for s in range(len(starts)):
        a, b = starts[s], ends[s]
        shift = np.nan
        s1, c1, s2, c2 = 0.0, 0.0, 0.0, 0.0
        n, run = 0, 0
        for i in range(a, b):
            v = x[i]
            if v == v:
                if shift != shift:
                    shift = v
                d = v - shift
                t = s1 + d
                c1 += (s1 - t) + d if abs(s1) >= abs(d) else (d - t) + s1
                s1 = t
                d2 = d * d
                t = s2 + d2
                c2 += (s2 - t) + d2 if abs(s2) >= abs(d2) else (d2 - t) + s2
                s2 = t
                n += 1
                run = run + 1 if i > a and x[i - 1] == v else 1
            else:
                run = 0
            j = i - window
            if j >= a:
                u = x[j]
                if u == u:
                    d = -(u - shift)
                    t = s1 + d
                    c1 += (s1 - t) + d if abs(s1) >= abs(d) else (d - t) + s1
                    s1 = t
                    d2 = -((u - shift) * (u - shift))
                    t = s2 + d2
                    c2 += (s2 - t) + d2 if abs(s2) >= abs(d2) else (d2 - t) + s2
                    s2 = t
                    n -= 1
            if n >= need:
                if run >= window:  # one repeated value: no spread (the sums leave ~1e-16)
                    out[i] = 0.0
                else:
                    m1, m2 = s1 + c1, s2 + c2
                    out[i] = math.sqrt(max((m2 - m1 * m1 / n) / (n - 1), 0.0))
            else:
                out[i] = np.nan
    return out


def _rolling_extreme(x, starts, ends, window, need, largest):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    out = np.empty_like(x)
    longest = 0
    for s in range(len(starts)):
        longest = max(longest, ends[s] - starts[s])
    queue = np.empty(longest, dtype=np.int64)  # row indices, values monotonic from the head
    for s in range(len(starts)):
        a, b = starts[s], ends[s]
        head, tail, n = 0, 0, 0
        for i in range(a, b):
            v = x[i]
            if v == v:
                n += 1
                while tail > head and (
                    x[queue[tail - 1]] <= v if largest else x[queue[tail - 1]] >= v
                ):
                    tail -= 1
                queue[tail] = i
                tail += 1
            j = i - window
            if j >= a and x[j] == x[j]:
                n -= 1
            while tail > head and queue[head] <= j:
                head += 1
            out[i] = x[queue[head]] if tail > head and n >= need else np.nan
    return out


def _rolling_beta(y, x, starts, ends, window, need):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    out = np.empty_like(x)
    sums = np.zeros(4)
    comp = np.zeros(4)
    terms = np.zeros(4)
    for s in range(len(starts)):
        a, b = starts[s], ends[s]
        kx, ky = np.nan, np.nan
        sums[:] = 0.0
        comp[:] = 0.0
        n = 0
        for i in range(a, b):
            for step in range(2):
                r = i if step == 0 else i - window
                if r < a:
                    continue
                xv, yv = x[r], y[r]
                if xv != xv or yv != yv:
                    continue
                if kx != kx:
                    kx, ky = xv, yv
                dx, dy = xv - kx, yv - ky
                sign = 1.0 if step == 0 else -1.0
                terms[0], terms[1], terms[2], terms[3] = dx, dy, dx * dx, dx * dy
                for k in range(4):
                    term = sign * terms[k]
                    t = sums[k] + term
                    if abs(sums[k]) >= abs(term):
                        comp[k] += (sums[k] - t) + term
                    else:
                        comp[k] += (term - t) + sums[k]
                    sums[k] = t
                n += 1 if step == 0 else -1
            tx, ty = sums[0] + comp[0], sums[1] + comp[1]
            txx, txy = sums[2] + comp[2], sums[3] + comp[3]
            var = txx - tx * tx / n if n > 0 else 0.0
            if n >= need and var > 1e-12 * txx:
                out[i] = (txy - tx * ty / n) / var
            else:
                out[i] = np.nan
    return out


def _ewma(x, starts, ends, lam, need):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    out = np.empty_like(x)
    rest = 1.0 - lam
    for s in range(len(starts)):
        a, b = starts[s], ends[s]
        y, n = np.nan, 0
        for i in range(a, b):
            v = x[i]
            if v == v:
                n += 1
                y = v if n == 1 else lam * y + rest * v
            out[i] = y if n >= need else np.nan
    return out


def lag(h: History, x: np.ndarray) -> np.ndarray:
    """The entity's previous row (missing on its first row)."""
    return _compiled(_lag)(x, h.starts, h.ends)  # type: ignore[no-any-return]


def rolling(h: History, kind: str, x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """mean, sum, std (sample), max or min of ``x`` over each entity's last ``window`` rows."""
    need = max(min_periods, 1)
    if kind in ("mean", "sum"):
        fn = _compiled(_rolling_sum)
        return fn(x, h.starts, h.ends, window, need, kind == "mean")  # type: ignore[no-any-return]
    if kind == "std":
        return _compiled(_rolling_std)(x, h.starts, h.ends, window, max(need, 2))  # type: ignore[no-any-return]
    if kind in ("max", "min"):
        fn = _compiled(_rolling_extreme)
        return fn(x, h.starts, h.ends, window, need, kind == "max")  # type: ignore[no-any-return]
    raise ValueError(f"unknown rolling kind {kind}")


def beta(h: History, y: np.ndarray, x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """OLS slope of ``y`` on ``x`` over the pairs of each entity's last ``window`` rows."""
    fn = _compiled(_rolling_beta)
    return fn(y, x, h.starts, h.ends, window, max(min_periods, 1))  # type: ignore[no-any-return]


def ewma(h: History, x: np.ndarray, lam: float, min_periods: int) -> np.ndarray:
    """``y = lam*y + (1-lam)*x`` seeded with each entity's first value of ``x``."""
    return _compiled(_ewma)(x, h.starts, h.ends, lam, max(min_periods, 1))  # type: ignore[no-any-return]


def _group_order(codes, stamps, entities):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    n = len(codes)
    ends = np.zeros(entities + 1, dtype=np.int64)
    for i in range(n):
        ends[codes[i] + 1] += 1
    for k in range(entities):
        ends[k + 1] += ends[k]
    fill = ends[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    identity = True
    for i in range(n):  # counting sort by code: stable, O(n)
        c = codes[i]
        order[fill[c]] = i
        identity = identity and fill[c] == i
        fill[c] += 1
    repeated = False
    for k in range(entities):  # each entity's rows by stamp (usually in order already)
        a, b = ends[k], ends[k + 1]
        for j in range(a + 1, b):
            if stamps[order[j]] <= stamps[order[j - 1]]:
                seg = order[a:b].copy()
                order[a:b] = seg[np.argsort(stamps[seg], kind="mergesort")]
                identity = False
                break
        for j in range(a + 1, b):
            if stamps[order[j]] == stamps[order[j - 1]]:
                repeated = True
    return order, identity, repeated


def group_order(
    codes: np.ndarray, stamps: np.ndarray, entities: int
) -> tuple[np.ndarray | None, bool]:
    """Row order sorting by (code, stamp), stable (None: in order already); any repeated pair?

    Codes are 0 .. ``entities`` - 1: a counting sort by code (one pass, no comparison sort of
    the whole table), then each entity's rows by stamp only where they are out of order.
    """
    order, identity, repeated = _compiled(_group_order)(codes, stamps, entities)
    return (None if identity else order), bool(repeated)
