"""The CI gate (run by `make test`): the offline suites on the demo data meet evals/thresholds.json.

One eval run over a private copy of the session's demo data dir scores analyst (issue 7's gold
set and issue 14's generalization set, dev and locked splits), sql and security; retrieval runs
apart on the first FinanceBench filings when ../shared/data is present (skipped with a message
otherwise). A miss names the suite, metric,
value and threshold. These runs take minutes on two cores, hence the longer timeouts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evals.harness.gate import check_gate, load_thresholds
from evals.harness.model import Run
from evals.harness.runner import run_eval
from evals.harness.store import save_run
from evals.harness.suite_retrieval import DATA

OFFLINE_SUITES = ["analyst", "sql", "security"]
# Two filings (3M 2018 and 2022 10-Ks, 5 questions), no baseline: the retrieval gate stays at a
# few minutes on two cores; the full 26-filing run is `sightline eval --suite retrieval`.
RETRIEVAL_OPTIONS = {"retrieval_docs": 2, "retrieval_baseline": False}


def _copy(demo_home: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN202
    from app.runtime import Runtime
    from app.settings import Settings

    home = tmp_path_factory.mktemp("gate") / "home"
    shutil.copytree(demo_home, home)
    return Runtime(Settings(home=home))


@pytest.fixture(scope="module")
def gate_run(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    rt = _copy(demo_home, tmp_path_factory)
    run = run_eval(rt, suites=OFFLINE_SUITES)
    run.gate = check_gate(run)
    save_run(run, Path(rt.settings.home) / "evals" / run.run_id)
    return run


def _misses(run: Run) -> list[str]:
    assert run.gate is not None
    return [
        f"{f['suite']}.{f['metric']} = {f['value']} ({f['rule']} {f['bound']})"
        for f in run.gate["failures"]
    ]


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_offline_suites_meet_the_thresholds(gate_run: Run) -> None:
    assert _misses(gate_run) == [], "below evals/thresholds.json:\n" + "\n".join(_misses(gate_run))


@pytest.mark.slow
@pytest.mark.parametrize("suite", OFFLINE_SUITES)
def test_every_offline_suite_measured_something(gate_run: Run, suite: str) -> None:
    result = gate_run.suites[suite]
    assert result.status == "ok", result.message
    assert "unavailable" not in result.message, result.message
    assert all(result.metrics.get(m) is not None for m in load_thresholds()[suite])


@pytest.mark.slow
def test_analyst_suite_scores_both_splits_of_the_generalization_set(gate_run: Run) -> None:
    analyst = gate_run.suites["analyst"]
    for split, least in (("dev", 100), ("locked", 100)):
        assert analyst.metrics[f"{split}_questions"] >= least, split
        for name in ("accuracy", "wrong_answer_rate", "miss_rate", "interpretation_coverage"):
            assert f"{split}_{name}" in analyst.metrics, (split, name)
    assert analyst.metrics["gold_drift"] == 0  # gold recomputed on the demo == the files
    outcomes = {c["outcome"] for c in analyst.cases if "outcome" in c}
    assert outcomes <= {"right", "wrong_answer", "miss", "error"}  # no degraded offline


@pytest.mark.slow
def test_security_suite_reports_zero_leaks_with_working_controls(gate_run: Run) -> None:
    security = gate_run.suites["security"]
    assert security.metrics["leaks"] == 0
    controls = {c["id"]: c for c in security.cases if c["id"].endswith("-control")}
    assert set(controls) == {"barrier-r-control", "barrier-a-control"}
    assert all(c["passed"] for c in controls.values()), controls


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_retrieval_subset_meets_the_thresholds(runtime) -> None:  # noqa: ANN001
    # The retrieval suite indexes the FinanceBench PDFs in its own cache, not the data dir.
    if not (DATA / "questions.jsonl").is_file():
        pytest.skip(f"FinanceBench not at {DATA}: CI places shared/ beside the clone")
    run = run_eval(runtime, suites=["retrieval"], options=RETRIEVAL_OPTIONS)
    run.gate = check_gate(run)
    result = run.suites["retrieval"]
    assert result.status == "ok", result.message
    assert result.metrics["questions"] == 5
    assert result.charts["recall_at_k"]["sightline single-doc"]
    assert _misses(run) == [], "below evals/thresholds.json:\n" + "\n".join(_misses(run))
