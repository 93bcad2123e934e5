"""The CI gate (run by `make test`): the offline suites on the demo data meet evals/thresholds.json.

One eval run per session over a private copy of the demo data dir: analyst (issue 7's gold set),
sql, security, and retrieval on the first FinanceBench filings when ../shared/data is present
(skipped with a message otherwise). A miss names the suite, metric, value and threshold.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evals.harness.gate import check_gate, load_thresholds
from evals.harness.model import Run
from evals.harness.runner import run_eval
from evals.harness.store import save_run

GATE_SUITES = ["analyst", "sql", "security", "retrieval"]
# Two filings (3M 2018 and 2022 10-Ks, 5 questions) keep the retrieval gate to a couple of
# minutes on two cores; the full 26-filing run is `sightline eval --suite retrieval` (docs/eval.md).
GATE_OPTIONS = {"retrieval_docs": 2, "retrieval_baseline": False}


@pytest.fixture(scope="module")
def gate_run(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    from app.runtime import Runtime
    from app.settings import Settings

    home = tmp_path_factory.mktemp("gate") / "home"
    shutil.copytree(demo_home, home)
    run = run_eval(Runtime(Settings(home=home)), suites=GATE_SUITES, options=GATE_OPTIONS)
    run.gate = check_gate(run)
    report = save_run(run, home / "evals" / run.run_id)
    return run, report


@pytest.mark.slow
def test_offline_suites_meet_the_thresholds(gate_run: tuple[Run, Path]) -> None:
    run, _ = gate_run
    gate = run.gate
    assert gate is not None
    misses = [
        f"{f['suite']}.{f['metric']} = {f['value']} ({f['rule']} {f['bound']})"
        for f in gate["failures"]
    ]
    assert misses == [], "below evals/thresholds.json:\n" + "\n".join(misses)


@pytest.mark.slow
@pytest.mark.parametrize("suite", ["analyst", "sql", "security"])
def test_every_offline_suite_measured_something(gate_run: tuple[Run, Path], suite: str) -> None:
    run, _ = gate_run
    result = run.suites[suite]
    assert result.status == "ok", result.message
    assert "unavailable" not in result.message, result.message
    thresholds = load_thresholds()[suite]
    assert all(result.metrics.get(m) is not None for m in thresholds)


@pytest.mark.slow
def test_security_suite_reports_zero_leaks_with_working_controls(
    gate_run: tuple[Run, Path],
) -> None:
    run, _ = gate_run
    security = run.suites["security"]
    assert security.metrics["leaks"] == 0
    controls = {c["id"]: c for c in security.cases if c["id"].endswith("-control")}
    assert set(controls) == {"barrier-r-control", "barrier-a-control"}
    assert all(c["passed"] for c in controls.values()), controls


@pytest.mark.slow
def test_retrieval_runs_or_says_why_not(gate_run: tuple[Run, Path]) -> None:
    run, _ = gate_run
    result = run.suites["retrieval"]
    if result.status == "skipped":
        assert "FinanceBench data not found" in result.message
        return
    assert result.status == "ok", result.message
    assert result.metrics["questions"] == 5
    assert result.charts["recall_at_k"]["sightline single-doc"]
