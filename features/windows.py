"""Numpy window kernels for the streaming (and arrays) evaluation of ``features.expressions``.

A block holds, per entity, its next observations in time order (shape: steps x entities). Few
observations per entity are applied one step at a time with compensated running sums
(compiled, ``features.step_kernels``); many are summed over whole windows from stored sums plus
the new rows, then re-anchored exactly on the block's last window so rounding cannot accumulate
across blocks. Max and min use an exact
prefix/suffix (van Herk) pass. The expression nodes call these; nothing here knows a feature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


class Evaluator(Protocol):
    """What a node needs from an evaluator (``features.state``, ``features.engines.arrays``).

    A batch is a block, time-major: column j holds the next ``lengths()[j]`` observations of
    entity ``rows()[j]`` in block rows ``0 .. lengths()[j] - 1``, oldest first; cells past an
    entity's length are padding (missing inputs) whose values are ignored and must not reach
    the state. Time-major keeps every step along time a contiguous vector over the entities.
    Nodes evaluate under ``np.errstate(all="ignore")``, set once by the evaluator: a division
    by zero or a log of zero gives inf/NaN, which the nodes turn into missing values.
    """

    def column(self, name: str) -> np.ndarray:
        """Input column ``name`` for the block, shape (width, entities)."""

    def state(self, key: str, shape: tuple[int, ...], fill: float) -> np.ndarray:
        """State array of node ``key`` for every entity (first axis = entity)."""

    def rows(self) -> np.ndarray:
        """Entity indices of the block's columns (unique)."""

    def lengths(self) -> np.ndarray:
        """Observations held for each entity of the block (1 .. width)."""

    def width(self) -> int:
        """Observations per entity the block has room for (its first axis)."""


def stepwise_is_cheaper(x: np.ndarray, window: int) -> bool:
    """A few observations per entity: O(1) steps beat recomputing windows of ``window``."""
    return len(x) * 4 <= window


def store_sums(ev: Evaluator, key: str, sums: list[np.ndarray], n: np.ndarray) -> None:
    """After a whole-block pass: the window sums at each entity's last observation."""
    import numpy as np

    m = len(sums)
    rows = ev.rows()
    ev.state(key + "#sums", (m + 1,), 0.0)[rows] = np.column_stack(
        [*(at_last(ev, s) for s in sums), at_last(ev, n)]
    )
    ev.state(key + "#comp", (m,), 0.0)[rows] = 0.0


def at_last(ev: Evaluator, x: np.ndarray) -> np.ndarray:
    """Each entity's value at its last observation of the block."""
    import numpy as np

    return x[ev.lengths() - 1, np.arange(x.shape[1])]


def history(
    ev: Evaluator,
    key: str,
    window: int,
    x: np.ndarray | dict[str, np.ndarray],
    suffixes: list[str],
) -> dict[str, np.ndarray]:
    """Per ring ``key + suffix``: the entity's last ``window`` values, then ``x``.

    Shape (window + width, entities); older values are NaN where the entity has fewer. The
    rings are rewritten oldest first with the last ``window`` values, so every window of the
    block is a slice of the result and the sums are recomputed from exact stored values.
    ``x`` is one array for every suffix, or a dict by suffix.
    """
    import numpy as np

    pos = ev.state(key + "#pos", (), 0.0)
    rows = ev.rows()
    slot = pos[rows].astype(np.int64)
    out = {}
    for suffix in suffixes:
        ring = ev.state(key + suffix + "#hist", (window,), np.nan)
        values = x[suffix] if isinstance(x, dict) else x
        if slot.any():  # oldest first
            past = ring[rows[:, None], (slot[:, None] + np.arange(window)) % window]
        else:
            past = ring[rows]
        z = np.concatenate([past.T, values], axis=0)
        ring[rows] = final_window(ev, z, window).T  # the window ending at the last observation
        out[suffix] = z
    pos[rows] = 0
    return out


def window_sums(
    ev: Evaluator, key: str, terms: list[np.ndarray], present: np.ndarray, window: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """Sums of each term over the ``window`` rows ending at each block row, and the count.

    ``terms`` and ``present`` span history + block, (window + width, n); the result is
    (width, n): the stored sums of the window before the block plus cumulative sums of what
    enters minus what leaves (block row t enters as history row t leaves). The error is a few
    roundings of the sums within one block: the stored sums are re-anchored exactly at each
    block's end (``reanchor``), so nothing builds up over a stream.
    """
    import numpy as np

    m = len(terms)
    rows = ev.rows()
    width = len(present) - window
    stored = ev.state(key + "#sums", (m + 1,), 0.0)[rows]
    comp = ev.state(key + "#comp", (m,), 0.0)[rows]
    out = []
    for i, term in enumerate(terms):
        delta = term[window:] - term[:width]
        out.append(np.cumsum(delta, axis=0) + (stored[:, i] + comp[:, i]))
    if present.all():  # full windows everywhere (the steady state): no count to sum
        return out, np.full((width, present.shape[1]), float(window))
    moved = present[window:].astype(np.float64) - present[:width]
    return out, np.cumsum(moved, axis=0) + stored[:, m]


def final_window(ev: Evaluator, z: np.ndarray, window: int) -> np.ndarray:
    """Each entity's last ``window`` values after the block (oldest first): (window, n)."""
    import numpy as np

    lengths = ev.lengths()
    width = len(z) - window
    if width == 1 or bool((lengths == width).all()):
        return z[width:]
    return z[lengths + np.arange(window)[:, None], np.arange(z.shape[1])]


def reanchor(ev: Evaluator, key: str, terms: list[np.ndarray], present: np.ndarray) -> None:
    """Store exact sums of each term over the final windows (window, n), and their count."""
    import numpy as np

    m = len(terms)
    rows = ev.rows()
    sums = [t.sum(axis=0) for t in terms]
    ev.state(key + "#sums", (m + 1,), 0.0)[rows] = np.column_stack(
        [*sums, present.sum(axis=0, dtype=np.float64)]
    )
    ev.state(key + "#comp", (m,), 0.0)[rows] = 0.0


def sliding_extreme(z: np.ndarray, window: int, better: np.ufunc) -> np.ndarray:
    """``better`` (np.fmax/np.fmin) of the ``window`` cells ending at each block row.

    van Herk / Gil-Werman on chunks of ``window`` rows aligned with the history (chunk 0): a
    window ending in chunk k is a suffix of chunk k-1 and a prefix of chunk k, so one running
    extreme forwards over chunk k and one backwards over chunk k-1 give all its windows,
    exactly, in O(1) per cell (the history's own prefix is never needed).
    """
    import numpy as np

    length, n = z.shape
    out = np.empty((length - window, n))
    for lo in range(window, length, window):
        hi = min(lo + window, length)
        ends = better.accumulate(z[lo:hi], axis=0)
        if window > 1:  # rows lo-window+1 .. lo-1, extreme of each row up to lo-1
            tail = better.accumulate(z[lo - 1 : lo - window : -1], axis=0)[::-1]
            k = min(hi - lo, window - 1)
            ends[:k] = better(tail[:k], ends[:k])
        out[lo - window : hi - window] = ends
    return out
