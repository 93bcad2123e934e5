"""The harness framework with a tiny suite of the test's own: run, store, report, compare, gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.harness.compare import compare_runs, format_comparison
from evals.harness.gate import THRESHOLDS_FILE, check_gate, load_thresholds
from evals.harness.metrics import percentile, rate
from evals.harness.model import EvalContext, SuiteResult
from evals.harness.registry import Suite, get_suite, register, suite_names
from evals.harness.runner import run_eval
from evals.harness.store import list_runs, load_run, runs_dir, save_run
from ingestion.errors import ConfigError, InputError, NotFoundError

GOLD = {"2+2": "4", "capital of France": "Paris", "<img src=x onerror=alert(1)>": "inert"}


def _tiny(ctx: EvalContext) -> SuiteResult:
    """Scores the answers given in the options against GOLD (the test's own tiny suite)."""
    answers: dict[str, str] = ctx.options["answers"]
    latencies = [float(ms) for ms in ctx.options["latencies"]]
    cases = [
        {"id": q, "expected": a, "got": answers.get(q), "passed": answers.get(q) == a}
        for q, a in GOLD.items()
    ]
    hits = sum(c["passed"] for c in cases)
    return SuiteResult(
        metrics={"accuracy": rate(hits, len(GOLD)), "latency_p95_ms": percentile(latencies, 95)},
        cases=cases,
        charts={
            "per_intent": {
                "arithmetic": float(cases[0]["passed"]),
                "geography": 0.5 + 0.5 * cases[1]["passed"],
            },
            "recall_at_k": {"tiny": {"1": 0.5, "5": 0.8, "10": 1.0}},
            "latency_ms": latencies,
            "tokens": [0, 10, 20],
            "cost_usd": [0.0, 0.001, 0.002],
        },
    )


def _broken(ctx: EvalContext) -> SuiteResult:
    raise RuntimeError("the backend fell over")


def _waiting(ctx: EvalContext) -> SuiteResult:
    return SuiteResult.unavailable("waiting for issue 99")


register(Suite("tiny", "the harness tests' own suite", _tiny))
register(Suite("broken", "a suite that crashes", _broken))
register(Suite("waiting", "a suite whose backend has not landed", _waiting))

RIGHT = {"answers": dict(GOLD), "latencies": [10, 12, 14, 30]}
WRONG = {"answers": {**GOLD, "capital of France": "Lyon"}, "latencies": [10, 12, 14, 90]}
TINY_GATE = {"tiny": {"accuracy": {"min": 1.0, "note": "all three"}}}


def test_registry_lists_the_builtin_suites_and_refuses_unknown_names() -> None:
    names = suite_names()
    assert {"analyst", "retrieval", "security", "sql"} <= set(names)
    with pytest.raises(InputError, match="unknown eval suite"):
        get_suite("nope")


def test_run_store_and_reload(runtime) -> None:  # noqa: ANN001
    run = run_eval(runtime, suites=["tiny"], options=RIGHT)
    assert run.suites["tiny"].status == "ok"
    assert run.suites["tiny"].metrics == {"accuracy": 1.0, "latency_p95_ms": 27.6}
    assert run.summary()["suites"]["tiny"]["accuracy"] == 1.0
    directory = runs_dir(runtime.settings.home) / run.run_id
    save_run(run, directory)
    assert list_runs(runtime.settings.home) == [run.run_id]
    for ref in (run.run_id, str(directory), str(directory / "run.json")):
        again = load_run(ref, runtime.settings.home)
        assert again.as_dict() == json.loads(json.dumps(run.as_dict(), default=str))
    with pytest.raises(NotFoundError):
        load_run("20990101T000000Z-nothing", runtime.settings.home)


def test_report_is_self_contained_and_escapes_answers(runtime, tmp_path: Path) -> None:  # noqa: ANN001
    run = run_eval(runtime, suites=["tiny", "waiting"], options=WRONG)
    run.gate = check_gate(run, TINY_GATE)
    html = (save_run(run, tmp_path / "r")).read_text(encoding="utf-8")
    assert html.count("<svg") == 5  # per intent, recall@k, latency, tokens, cost
    assert "accuracy per intent" in html and "page recall@k" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html and "<script" not in html
    assert 'src="' not in html and "@import" not in html  # nothing fetched from elsewhere
    assert "Gate FAILED" in html and "waiting for issue 99" in html


def test_compare_marks_regressions(runtime) -> None:  # noqa: ANN001
    a = run_eval(runtime, suites=["tiny"], options=RIGHT)
    b = run_eval(runtime, suites=["tiny"], options=WRONG)
    result = compare_runs(a, b)
    verdicts = {c["metric"]: c["verdict"] for c in result["changes"]}
    assert verdicts == {"accuracy": "regressed", "latency_p95_ms": "regressed"}
    back = compare_runs(b, a)
    assert {c["verdict"] for c in back["changes"]} == {"improved"}
    assert back["regressions"] == []
    text = format_comparison(result)
    assert "!! tiny" in text and "2 regression(s)" in text


def test_gate_passes_fails_and_names_what_it_could_not_check(runtime) -> None:  # noqa: ANN001
    good = run_eval(runtime, suites=["tiny"], options=RIGHT)
    assert check_gate(good, TINY_GATE) == {
        "passed": True,
        "failures": [],
        "unchecked": [],
        "checked": 1,
    }
    bad = run_eval(runtime, suites=["tiny", "broken", "waiting"], options=WRONG)
    thresholds = {
        **TINY_GATE,
        "broken": {"x": {"min": 1, "note": "n"}},
        "waiting": {"y": {"max": 0, "note": "n"}},
    }
    gate = check_gate(bad, thresholds)
    assert not gate["passed"]
    assert {(f["suite"], f["metric"]) for f in gate["failures"]} == {
        ("tiny", "accuracy"),
        ("broken", "status"),
    }
    assert bad.suites["broken"].status == "error"
    assert "RuntimeError: the backend fell over" in bad.suites["broken"].message
    assert gate["unchecked"] == [
        {"suite": "waiting", "status": "unavailable", "why": "waiting for issue 99"}
    ]


def test_thresholds_file_is_valid_and_every_value_has_a_note(tmp_path: Path) -> None:
    thresholds = load_thresholds(THRESHOLDS_FILE)
    assert thresholds["security"]["leaks"] == {
        "max": 0,
        "note": thresholds["security"]["leaks"]["note"],
    }
    bad = tmp_path / "t.json"
    bad.write_text(json.dumps({"thresholds": {"s": {"m": {"min": 1}}}}))
    with pytest.raises(ConfigError, match="needs 'min' or 'max' and a 'note'"):
        load_thresholds(bad)
