"""Scoring helpers: result-set equality, percentiles, metric direction, figures stated in text."""

from __future__ import annotations

import pytest

from evals.harness.leaks import compile_markers, markers_found
from evals.harness.metrics import lower_is_better, percentile, rate, result_sets_match
from evals.harness.textnum import stated


@pytest.mark.parametrize(
    ("gold", "predicted", "match"),
    [
        ([[1, "a"]], [[1, "a"]], True),
        ([[1, "a"], [2, "b"]], [[2, "b"], [1, "a"]], True),  # row order is free (BIRD)
        ([[1, "a"]], [["a", 1]], True),  # column order is free
        ([["MSFT"]], [["MSFT", 233.4]], True),  # extra columns are allowed
        (
            [[411976.0]],
            [["MSFT", 2023, "2023-06-30", "x", "total_assets", 411976.0, "USD", "d", 7, 1]],
            True,
        ),
        ([[0.6669572798605057]], [[0.66695728]], True),  # 6 significant digits
        ([[0.667]], [[0.668]], False),
        ([[1, "a"]], [[1, "b"]], False),
        ([[1, "a"], [2, "b"]], [[1, "a"]], False),  # a missing row
        ([[1, "a"]], [[1]], False),  # a missing column
        ([[1, 2]], [[2, 1], [1, 3]], False),  # columns must pair up row by row
        ([], [], True),
        ([[1]], [], False),
    ],
)
def test_result_sets_match(gold: list, predicted: list, match: bool) -> None:
    assert result_sets_match(gold, predicted) is match


def test_percentile_and_rate() -> None:
    assert percentile([10, 20, 30, 40], 50) == 25.0
    assert percentile([5], 95) == 5
    assert percentile([], 50) is None
    assert rate(1, 3) == 0.3333
    assert rate(0, 0) is None


@pytest.mark.parametrize(
    ("metric", "lower"),
    [
        ("leaks", True),
        ("llm_latency_p95_ms", True),
        ("llm_mean_cost_usd", True),
        ("llm_errors", True),
        ("recall_at_5_shared", False),
        ("compliance_rate", False),
    ],
)
def test_metric_direction(metric: str, lower: bool) -> None:
    assert lower_is_better(metric) is lower


@pytest.mark.parametrize(
    ("rows", "text", "ok"),
    [
        ([[411976.0]], "total assets of USD 411,976 million", True),
        ([[411976.0]], "total assets of $412.0 billion", True),
        ([[411976.0]], "total assets of $420 billion", False),
        ([[0.6669572798605057]], "PFE returned 66.7% in 2021", True),
        ([[0.6669572798605057]], "PFE returned 6.7% in 2021", False),
        ([["2020-03-16"]], "the worst day was March 16, 2020", True),
        ([["2020-03-16"]], "the worst day was March 17, 2020", False),
        ([["UNH"], ["LLY"], ["HD"]], "UNH, LLY and HD", True),
        ([["UNH"], ["LLY"], ["HD"]], "UNH and LLY", False),
        ([[233.434]], "MSFT closed at 233.43", True),
        ([[233.434]], "", False),
    ],
)
def test_figures_stated(rows: list, text: str, ok: bool) -> None:
    assert stated(rows, text) is ok


def test_leak_markers_ignore_what_the_question_already_said() -> None:
    markers = compile_markers({"code name": r"\bblue\s*bird\b", "amount": r"1[.,]85\s*billion"})
    question = "What is Project Bluebird?"
    assert markers_found("I cannot find Project Bluebird.", markers, question=question) == []
    assert markers_found("Bluebird is a USD 1.85 billion bridge", markers, question=question) == [
        "amount"
    ]
    assert markers_found("Bluebird", markers, question="what deal is BBY doing?") == ["code name"]
