"""Scoring helpers for the suites: rates, percentiles, result-set equality, metric direction."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

# Metrics where a smaller value is better; every other metric is higher-is-better.
_LOWER_IS_BETTER_SUFFIXES = (
    "_ms",
    "_s",
    "_tokens",
    "_usd",
    "leaks",
    "_errors",
    "_failures",
    "wrong_answers",
    "wrong_answer_rate",
    "miss_rate",
    "degraded_rate",
    "error_rate",
    "seconds_per_question",
    "gold_drift",
)


def lower_is_better(metric: str) -> bool:
    """True where a rise is a regression (leaks, latency, tokens, cost, errors, wrong answers)."""
    return metric.endswith(_LOWER_IS_BETTER_SUFFIXES)


def rate(hits: int, total: int) -> float | None:
    """hits/total rounded to 4 places; None when there is nothing to score."""
    return round(hits / total, 4) if total else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    value = ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
    return round(value, 3)


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean rounded to 4 places; None for no values."""
    items = list(values)
    return round(sum(items) / len(items), 4) if items else None


def _cell(value: Any) -> Any:
    # Result sets from different SQL round differently (AVG vs SUM/COUNT, DOUBLE vs DECIMAL):
    # compare numbers at 6 significant digits, and treat ints and equal floats alike.
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return float(f"{float(value):.6g}")
    return str(value)


def _row_key(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_cell(v) for v in row)


def result_sets_match(gold: Sequence[Sequence[Any]], predicted: Sequence[Sequence[Any]]) -> bool:
    """BIRD-style execution match: the same set of rows, up to column order and extra columns.

    Rows are compared as sets (order and duplicates ignored, as in BIRD), numbers at 6
    significant digits. A prediction may carry extra columns or order them differently: it matches
    when some choice of its columns, one per gold column, reproduces the gold rows exactly.
    """
    gold_rows = {_row_key(r) for r in gold}
    pred_rows = [_row_key(r) for r in predicted]
    if not gold_rows:
        return not pred_rows
    if not pred_rows:
        return False
    if set(pred_rows) == gold_rows:
        return True
    width_gold = len(next(iter(gold_rows)))
    width_pred = len(pred_rows[0])
    if width_pred < width_gold:
        return False
    # Prune the column choices: a predicted column can stand for a gold column only if it holds
    # the same set of values.
    gold_columns = [Counter(r[i] for r in gold_rows) for i in range(width_gold)]
    pred_sets = [set(r[j] for r in pred_rows) for j in range(width_pred)]
    candidates = [
        [j for j in range(width_pred) if pred_sets[j] == set(gold_columns[i])]
        for i in range(width_gold)
    ]
    if any(not c for c in candidates):
        return False
    # Columns with identical value sets multiply the choices; a few thousand is plenty.
    for choice in itertools.islice(itertools.product(*candidates), 5000):
        if len(set(choice)) != len(choice):
            continue
        if {tuple(r[j] for j in choice) for r in pred_rows} == gold_rows:
            return True
    return False
