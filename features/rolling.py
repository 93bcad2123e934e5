"""Window aggregates of the feature vocabulary: rolling mean/sum/std/max/min and rolling beta.

Nodes of ``features.expressions`` trees: the SQL engines ask them for window SQL, the streaming
path for incremental updates of a block (numpy kernels in ``features.windows``), the arrays
engine for whole histories (compiled kernels in ``features.kernels``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from features import kernels, step_kernels, windows
from features.expressions import Node, SqlCompiler, max_lookback
from features.kernels import History
from features.windows import Evaluator

if TYPE_CHECKING:
    import numpy as np


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
        if windows.stepwise_is_cheaper(x, self.window):  # one compiled pass, O(1) per value
            key, kind = self.cached_key, self.kind
            return step_kernels.step_rolling(ev, key, kind, x, self.window, self.min_periods)
        z = windows.history(ev, self.cached_key, self.window, x, [""])[""]
        if self.kind in ("mean", "sum"):
            return self._running(ev, z)
        if self.kind in ("max", "min"):
            return self._extreme(ev, z)
        return self._std(ev, z)

    def _over_history(self, h: History, memo: dict[str, np.ndarray]) -> np.ndarray:
        x = self.arg.over_history(h, memo)
        return kernels.rolling(h, self.kind, x, self.window, self.min_periods)

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
        inner = max_lookback(self.y.lookback(), self.x.lookback())
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
        if windows.stepwise_is_cheaper(x, w):  # one compiled pass, O(1) per pair
            return step_kernels.step_beta(ev, key, y, x, w, self.min_periods)
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

    def _over_history(self, h: History, memo: dict[str, np.ndarray]) -> np.ndarray:
        y, x = self.y.over_history(h, memo), self.x.over_history(h, memo)
        return kernels.beta(h, y, x, self.window, self.min_periods)

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
