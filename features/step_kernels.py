"""Compiled (numba) O(1) window updates for the streaming engine's small blocks.

A streaming block holds a few observations per entity (a micro-batch from a broker: most
tickers once or twice). ``features.rolling`` used to apply such a block one step at a time with
a dozen numpy calls per step; these kernels apply the whole block, (width, entities) with each
entity's ``lengths``, in one call per node, on the node's own state arrays (the ring of the
last ``window`` values and its position, the compensated window sums and their count, the
std's shift and equal run, the extreme): the same arrays the whole-block numpy path
(``features.windows``) reads and re-anchors, so snapshots and the two paths mix freely.

Sums are compensated with Knuth's TwoSum (the error stays near one rounding of the window sum),
the value entering added before the one leaving is subtracted; cells past an entity's length are
NaN in the output and never touch the state. Compiled on first use by ``features.kernels._compiled``
(cached per installation).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np  # the kernels' globals: numba resolves ``np`` when it compiles them

from features.kernels import _compiled

if TYPE_CHECKING:
    from features.windows import Evaluator


def _step_sum(x, rows, lengths, ring, pos, sums, comp, w, min_periods, mean):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202, E501
    out = np.full(x.shape, np.nan)
    for j in range(len(rows)):
        r = rows[j]
        for t in range(lengths[j]):
            v = x[t, j]
            slot = int(pos[r])
            old = ring[r, slot]
            ring[r, slot] = v
            pos[r] = (slot + 1) % w
            add = v if v == v else 0.0
            sub = old if old == old else 0.0
            n = sums[r, 1] + (1.0 if v == v else 0.0) - (1.0 if old == old else 0.0)
            s, c = sums[r, 0], comp[r, 0]
            t1 = s + add
            z = t1 - s
            c = c + ((s - (t1 - z)) + (add - z))
            s = t1
            t1 = s - sub
            z = t1 - s
            c = c + ((s - (t1 - z)) + (-sub - z))
            s = t1
            sums[r, 0], sums[r, 1], comp[r, 0] = s, n, c
            total = s + c
            if mean:
                total = total / n
            out[t, j] = total if n >= min_periods else np.nan
    return out


def _step_std(x, rows, lengths, ring, pos, sums, comp, shift, run, w, min_periods):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202, E501
    out = np.full(x.shape, np.nan)
    for j in range(len(rows)):
        r = rows[j]
        for t in range(lengths[j]):
            v = x[t, j]
            slot = int(pos[r])
            prev = ring[r, (slot - 1 + w) % w]
            old = ring[r, slot]
            ring[r, slot] = v
            pos[r] = (slot + 1) % w
            new_in, old_in = v == v, old == old
            k = shift[r]
            if k != k and new_in:
                k = v
                shift[r] = k
            dn = v - k if new_in else 0.0
            do = old - k if old_in else 0.0
            n = sums[r, 2] + (1.0 if new_in else 0.0) - (1.0 if old_in else 0.0)
            s1, c1 = sums[r, 0], comp[r, 0]
            s2, c2 = sums[r, 1], comp[r, 1]
            for term in (dn, -do):
                t1 = s1 + term
                z = t1 - s1
                c1 = c1 + ((s1 - (t1 - z)) + (term - z))
                s1 = t1
            for term in (dn * dn, -(do * do)):
                t1 = s2 + term
                z = t1 - s2
                c2 = c2 + ((s2 - (t1 - z)) + (term - z))
                s2 = t1
            sums[r, 0], sums[r, 1], sums[r, 2] = s1, s2, n
            comp[r, 0], comp[r, 1] = c1, c2
            if new_in:
                now = run[r] + 1.0 if v == prev else 1.0
            else:
                now = 0.0
            run[r] = min(now, float(w))
            m1, m2 = s1 + c1, s2 + c2
            var = (m2 - m1 * m1 / n) / (n - 1.0)
            if var < 0.0:
                var = 0.0
            value = math.sqrt(0.0 if now >= w else var)
            out[t, j] = value if n >= min_periods and n > 1.0 else np.nan
    return out


def _step_extreme(x, rows, lengths, ring, pos, sums, best, w, min_periods, largest):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202, E501
    out = np.full(x.shape, np.nan)
    for j in range(len(rows)):
        r = rows[j]
        for t in range(lengths[j]):
            v = x[t, j]
            slot = int(pos[r])
            old = ring[r, slot]
            ring[r, slot] = v
            pos[r] = (slot + 1) % w
            n = sums[r, 0] + (1.0 if v == v else 0.0) - (1.0 if old == old else 0.0)
            sums[r, 0] = n
            cur = best[r]
            rescan = old == cur  # NaN never equals: a missing value leaving changes nothing
            if cur != cur or (v == v and (v > cur if largest else v < cur)):
                cur = v
            if rescan:
                cur = np.nan
                for i in range(w):
                    u = ring[r, i]
                    if u == u and (cur != cur or (u > cur if largest else u < cur)):
                        cur = u
            best[r] = cur
            out[t, j] = cur if n >= min_periods else np.nan
    return out


def _step_beta(y, x, rows, lengths, ring_y, ring_x, pos, sums, comp, shift, w, min_periods):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202, E501
    out = np.full(x.shape, np.nan)
    new = np.zeros(4)
    gone = np.zeros(4)
    for j in range(len(rows)):
        r = rows[j]
        for t in range(lengths[j]):
            xv, yv = x[t, j], y[t, j]
            slot = int(pos[r])
            oy, ox = ring_y[r, slot], ring_x[r, slot]
            ring_y[r, slot], ring_x[r, slot] = yv, xv
            pos[r] = (slot + 1) % w
            new_in = xv == xv and yv == yv
            old_in = ox == ox and oy == oy
            if shift[r, 0] != shift[r, 0] and new_in:
                shift[r, 0], shift[r, 1] = xv, yv
            kx, ky = shift[r, 0], shift[r, 1]
            dx, dy = (xv - kx, yv - ky) if new_in else (0.0, 0.0)
            ex, ey = (ox - kx, oy - ky) if old_in else (0.0, 0.0)
            new[0], new[1], new[2], new[3] = dx, dy, dx * dx, dx * dy
            gone[0], gone[1], gone[2], gone[3] = ex, ey, ex * ex, ex * ey
            n = sums[r, 4] + (1.0 if new_in else 0.0) - (1.0 if old_in else 0.0)
            for i in range(4):
                s, c = sums[r, i], comp[r, i]
                for term in (new[i], -gone[i]):
                    t1 = s + term
                    z = t1 - s
                    c = c + ((s - (t1 - z)) + (term - z))
                    s = t1
                sums[r, i], comp[r, i] = s, c
                new[i] = s + c  # the compensated window sum of term i
            sums[r, 4] = n
            sx, sy, sxx, sxy = new[0], new[1], new[2], new[3]
            var = sxx - sx * sx / n
            cov = sxy - sx * sy / n
            value = np.nan if var <= 1e-12 * sxx else cov / var
            out[t, j] = value if n >= min_periods else np.nan
    return out


def step_rolling(
    ev: Evaluator, key: str, kind: str, x: np.ndarray, window: int, need: int
) -> np.ndarray:
    """Rolling ``kind`` (mean, sum, std, max, min) after each observation of the block ``x``."""
    rows = np.ascontiguousarray(ev.rows(), dtype=np.int64)
    lengths = np.ascontiguousarray(ev.lengths(), dtype=np.int64)
    ring = ev.state(key + "#hist", (window,), np.nan)
    pos = ev.state(key + "#pos", (), 0.0)
    x = np.ascontiguousarray(x, dtype=np.float64)
    if kind in ("mean", "sum"):
        sums, comp = ev.state(key + "#sums", (2,), 0.0), ev.state(key + "#comp", (1,), 0.0)
        fn = _compiled(_step_sum)
        return fn(x, rows, lengths, ring, pos, sums, comp, window, need, kind == "mean")  # type: ignore[no-any-return]
    if kind == "std":
        sums, comp = ev.state(key + "#sums", (3,), 0.0), ev.state(key + "#comp", (2,), 0.0)
        shift, run = ev.state(key + "#shift", (), np.nan), ev.state(key + "#run", (), 0.0)
        fn = _compiled(_step_std)
        return fn(x, rows, lengths, ring, pos, sums, comp, shift, run, window, need)  # type: ignore[no-any-return]
    sums = ev.state(key + "#sums", (1,), 0.0)
    ev.state(key + "#comp", (0,), 0.0)  # the whole-block path's (empty) compensation
    best = ev.state(key + "#best", (), np.nan)
    fn = _compiled(_step_extreme)
    return fn(x, rows, lengths, ring, pos, sums, best, window, need, kind == "max")  # type: ignore[no-any-return]


def step_beta(
    ev: Evaluator, key: str, y: np.ndarray, x: np.ndarray, window: int, need: int
) -> np.ndarray:
    """Rolling OLS slope of ``y`` on ``x`` after each observation of the block."""
    rows = np.ascontiguousarray(ev.rows(), dtype=np.int64)
    lengths = np.ascontiguousarray(ev.lengths(), dtype=np.int64)
    ring_y = ev.state(key + "#y#hist", (window,), np.nan)
    ring_x = ev.state(key + "#x#hist", (window,), np.nan)
    pos = ev.state(key + "#pos", (), 0.0)
    sums, comp = ev.state(key + "#sums", (5,), 0.0), ev.state(key + "#comp", (4,), 0.0)
    shift = ev.state(key + "#shift", (2,), np.nan)
    y = np.ascontiguousarray(y, dtype=np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    fn = _compiled(_step_beta)
    return fn(y, x, rows, lengths, ring_y, ring_x, pos, sums, comp, shift, window, need)  # type: ignore[no-any-return]
