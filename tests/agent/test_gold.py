"""The offline planner on the whole gold set (evals/gold): the issue's targets, in CI."""

from __future__ import annotations

import pytest

from evals.gold.score import TARGETS, run


@pytest.mark.slow
def test_offline_planner_meets_the_gold_set_targets(agent_rt) -> None:  # noqa: ANN001
    report = run(agent_rt.settings.home, llm="offline")
    summary = report["summary"]
    assert summary["questions"] >= 60
    misses = [s for s in report["scores"] if not s.get("grounded") or not s.get("declined_ok")]
    assert not misses, misses
    for metric, target in TARGETS.items():
        assert summary[metric] >= target, (metric, summary)
