"""The analyst suite end to end on the demo: an LLM run whose model fails is scored apart."""

from __future__ import annotations

import pytest

from evals.harness.runner import run_eval


@pytest.mark.slow
def test_an_llm_run_that_falls_back_counts_every_answer_as_degraded(demo_runtime) -> None:  # noqa: ANN001
    from app.llm.scripted import default_script

    default_script().queue.clear()  # no reply queued: every LLM call fails, the planner answers
    options = {"analyst_sets": ["dev", "locked"], "analyst_limit": 3}
    run = run_eval(demo_runtime, suites=["analyst"], llm="scripted", options=options)
    analyst = run.suites["analyst"]
    assert analyst.status == "ok", analyst.message
    cases = analyst.cases
    assert [c["split"] for c in cases] == ["dev"] * 3 + ["locked"] * 3
    assert {c["status"] for c in cases} == {"degraded"}
    assert {c["outcome"] for c in cases} == {"degraded"}  # an LLM miss, however good
    m = analyst.metrics
    assert m["accuracy"] == 0.0 and m["degraded_rate"] == 1.0 and m["wrong_answers"] == 0
    assert m["dev_degraded_rate"] == 1.0 and m["locked_degraded_rate"] == 1.0
    # The fallback itself is judged too (the offline planner on these price questions).
    fallback = sum(bool(c["fallback_right"]) for c in cases) / len(cases)
    assert m["dev_fallback_accuracy"] is not None and m["locked_fallback_accuracy"] is not None
    assert (m["dev_fallback_accuracy"] + m["locked_fallback_accuracy"]) / 2 == pytest.approx(
        fallback
    )
    assert all(c["seconds"] > 0 for c in cases)


@pytest.mark.slow
def test_the_same_questions_offline_are_scored_as_answers(demo_runtime) -> None:  # noqa: ANN001
    options = {"analyst_sets": ["locked"], "analyst_limit": 4}
    run = run_eval(demo_runtime, suites=["analyst"], llm="offline", options=options)
    analyst = run.suites["analyst"]
    assert analyst.status == "ok", analyst.message
    assert {c["outcome"] for c in analyst.cases} <= {"right", "wrong_answer", "miss"}
    assert "degraded_rate" not in analyst.metrics
    assert analyst.metrics["locked_questions"] == 4 and "dev_questions" not in analyst.metrics
    assert "questions" not in analyst.metrics  # the 84-question set was not asked
