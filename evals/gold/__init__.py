"""The agent gold set (issue 7): questions with expected tools, arguments and numbers, and a scorer.

Interface used by the eval harness (``evals.harness.suite_analyst``)::

    build(con, registry) -> list[item]         # evals.gold.build: expected values from raw data
    score_answer(item, answer_json) -> dict     # evals.gold.score: per-question scores
    summarize(scores) -> dict                   # tool/number accuracy, grounding, declines
    run(home, llm="offline") -> report          # the whole set on a copy of the data dir

Imported lazily, so ``python -m evals.gold.build`` and ``python -m evals.gold.score`` run cleanly.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build", "run", "score_answer", "summarize"]


def build(con: Any, registry: Any) -> list[dict[str, Any]]:
    """Every gold item with expected values computed from the raw tables (see ``build``)."""
    from evals.gold.build import build as _build

    return _build(con, registry)


def score_answer(item: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """Per-question scores of one ``ask --json`` record."""
    from evals.gold.score import score_answer as _score

    return _score(item, record)


def summarize(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """Gold-set metrics from per-question scores."""
    from evals.gold.score import summarize as _summarize

    return _summarize(scores)


def run(home: Any, *, llm: str = "offline") -> dict[str, Any]:
    """Ask and score the whole gold set on a copy of ``home``."""
    from evals.gold.score import run as _run

    return _run(home, llm=llm)
