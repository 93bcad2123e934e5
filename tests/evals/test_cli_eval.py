"""``sightline eval``: JSON shape, stored runs, --compare, and clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from evals.harness.runner import run_eval
from evals.harness.store import runs_dir, save_run
from tests.evals.test_harness import RIGHT, WRONG  # registers the tiny suite


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_compare_two_stored_runs(runtime) -> None:  # noqa: ANN001
    home = runtime.settings.home
    a = run_eval(runtime, suites=["tiny"], options=RIGHT)
    b = run_eval(runtime, suites=["tiny"], options=WRONG)
    for run in (a, b):
        save_run(run, runs_dir(home) / run.run_id)
    code, out, _ = invoke("eval", "--compare", a.run_id, b.run_id)
    assert code == 0
    assert "!! tiny       accuracy" in out and "2 regression(s)" in out
    code, out, _ = invoke("eval", "--compare", b.run_id, str(runs_dir(home) / a.run_id), "--json")
    data = json.loads(out)
    assert data["regressions"] == []
    assert {c["verdict"] for c in data["changes"]} == {"improved"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "--suite", "nope"], "error: unknown eval suite 'nope'"),
        (["eval", "--llm", "scripted"], "evals score 'offline' or 'openai:MODEL'"),
        (["eval", "--compare", "run-a", "run-b"], "error: no eval run 'run-a'"),
        (["eval", "--price", "cheap"], "expected PROMPT,COMPLETION"),
    ],
)
def test_errors_are_one_line_without_traceback(args: list[str], message: str) -> None:
    code, _, err = invoke(*args)
    assert code == 1
    assert message in err and "Traceback" not in err


@pytest.mark.slow
def test_eval_json_prints_every_suite_and_stores_the_run(demo_runtime, tmp_path: Path) -> None:  # noqa: ANN001
    report_dir = tmp_path / "report"
    code, out, err = invoke(
        "eval",
        "--suite",
        "sql",
        "--suite",
        "retrieval",
        "--json",
        "--report",
        str(report_dir),
        "--retrieval-data",
        str(tmp_path / "no-financebench"),
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["llm"] == "offline" and data["model"] == "offline"
    sql = data["suites"]["sql"]
    assert sql["status"] == "ok" and sql["gold_valid"] == 1.0 and sql["questions"] >= 30
    assert 0 <= sql["planner_answer_accuracy"] <= 1
    assert data["suites"]["retrieval"]["status"] == "skipped"
    assert "FinanceBench data not found" in data["suites"]["retrieval"]["message"]
    stored = json.loads((report_dir / "run.json").read_text())
    assert stored["run_id"] == data["run_id"]
    assert stored["suites"]["sql"]["metrics"]["gold_valid"] == 1.0
    assert (report_dir / "report.html").read_text().count("<svg") >= 1
    assert "suite sql" in err  # progress goes to stderr, stdout stays JSON
