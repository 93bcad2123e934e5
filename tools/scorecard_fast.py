"""One-loan scorecard explanation without pandas: the real-time PD path.

``tools.scorecard.explain`` builds a one-row pandas frame and factorizes every categorical column,
which is most of a PD request's time. ``explain_row`` reads the same bins and WoE tables with plain
Python and does the final arithmetic with the same numpy operations in the same order (a (1, k)
element-wise product summed along axis 1, then the Platt map), so its result and its JSON are
bit-identical to ``scorecard.explain`` (tests/models/test_scorecard_fast.py checks every demo loan
and random applicants). Bin lookup matches ``woe_matrix``: numbers take
``searchsorted(edges, x, side="right")`` (``bisect_right``; NaN goes to the last bin in both),
categories are compared as ``str(value)`` with unknown or missing values in the pooled bin.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any

import numpy as np

from tools.scorecard import FIELDS


def _is_missing(value: Any) -> bool:
    """What ``pd.factorize`` codes as -1 for the values a loan row can hold."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def bin_woe(spec: dict[str, Any], value: Any) -> float:
    """The WoE of ``value`` in one field's bins (as ``scorecard.woe_matrix`` would give it)."""
    woe = spec["woe"]
    if spec["kind"] == "numeric":
        x = math.nan if value is None else float(value)
        return float(woe[bisect_right(spec["edges"], x)])
    levels = spec["levels"]
    pooled = len(levels) - 1
    if _is_missing(value):
        return float(woe[pooled])
    key = str(value)
    index = levels.index(key) if key in levels else pooled
    return float(woe[index])


def explain_row(card: dict[str, Any], row: dict[str, Any]) -> tuple[float, list[dict[str, Any]]]:
    """PD of one loan and each field's contribution to its log-odds (largest first).

    Same contract and the same bits as ``tools.scorecard.explain``.
    """
    bins = card["bins"]
    # woe_matrix orders its columns by FIELDS; contributions walk card["fields"] (the same list).
    woes = [bin_woe(bins[name], row[name]) for name in FIELDS]
    b = card["calibration"]["b"]
    coefficients = card["coefficients"]
    contributions = [
        {"field": name, "value": row[name], "woe": w, "log_odds": b * coefficients[i] * w}
        for i, (name, w) in enumerate(zip(card["fields"], woes, strict=True))
    ]
    # The very operations of scorecard.log_odds on a one-row matrix, so the sum's order is the same.
    x = np.array([woes], dtype=np.float64)
    raw = (x * np.asarray(coefficients, dtype=np.float64)).sum(axis=1) + card["intercept"]
    z = float((card["calibration"]["a"] + b * raw)[0])
    contributions.sort(key=lambda c: (-abs(c["log_odds"]), c["field"]))
    return 1.0 / (1.0 + math.exp(-z)), contributions
