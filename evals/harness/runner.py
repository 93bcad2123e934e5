"""Run the chosen suites against one data dir and one LLM backend; return a ``Run``."""

from __future__ import annotations

import platform
import subprocess
import tempfile
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.harness.model import EvalContext, Run, Say, SuiteResult
from evals.harness.registry import get_suite, suite_names
from evals.harness.store import new_run_id
from ingestion.errors import SightlineError

REPO = Path(__file__).resolve().parents[2]


def default_suites() -> list[str]:
    """Suites a plain ``sightline eval`` runs: all of them.

    Each scores the offline path and, when ``--llm openai:MODEL`` is given, the model too.
    """
    return suite_names()


def code_version() -> str:
    """The git commit of the code under test (``+dirty`` when the tree has changes), or unknown."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{sha}+dirty" if dirty else sha


def run_eval(
    rt: Any,
    *,
    suites: Sequence[str] | None = None,
    llm: str = "offline",
    say: Say = lambda _msg: None,
    options: dict[str, Any] | None = None,
    workroot: Path | None = None,
) -> Run:
    """Score ``suites`` (default: all) on the runtime's data dir for the ``llm`` backend.

    A suite that raises is recorded with status ``error`` and its message (the gate fails on it);
    the other suites still run.
    """
    from app import __version__

    names = list(suites) if suites else default_suites()
    chosen = [get_suite(n) for n in names]  # unknown names fail before anything runs
    started = datetime.now(UTC)
    run_id = new_run_id(llm, started)
    results: dict[str, SuiteResult] = {}
    with tempfile.TemporaryDirectory(prefix="sightline-eval-", dir=workroot) as scratch:
        for suite in chosen:
            workdir = Path(scratch) / suite.name
            workdir.mkdir()
            ctx = EvalContext(rt=rt, llm=llm, workdir=workdir, say=say, options=dict(options or {}))
            say(f"suite {suite.name}: {suite.description}")
            t0 = time.perf_counter()
            try:
                result = suite.run(ctx)
            except SightlineError as exc:
                result = SuiteResult(status="error", message=str(exc))
            except Exception as exc:  # noqa: BLE001 - one broken suite must not hide the others
                tb = traceback.format_exc(limit=4)
                result = SuiteResult(status="error", message=f"{type(exc).__name__}: {exc}")
                result.cases.append({"id": "traceback", "passed": False, "detail": tb})
            result.seconds = time.perf_counter() - t0
            say(
                f"suite {suite.name}: {result.status} in {result.seconds:.1f}s"
                + (f" ({result.message})" if result.message else "")
            )
            results[suite.name] = result
    return Run(
        run_id=run_id,
        started=started.isoformat(timespec="seconds"),
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        llm=llm,
        model=llm.removeprefix("openai:") if llm.startswith("openai:") else llm,
        home=str(rt.settings.home),
        versions={
            "code": code_version(),
            "sightline": __version__,
            "python": platform.python_version(),
            "machine": f"{platform.machine()} {platform.system()}",
        },
        suites=results,
    )
