"""The evaluation harness: suites scored in one run, stored, reported, compared and gated.

``run_eval`` runs the registered suites against one data dir and one LLM backend and returns a
``Run``; ``store.save_run`` writes ``run.json`` and a self-contained ``report.html``;
``compare.compare_runs`` lines two runs up metric by metric; ``gate.check_gate`` holds a run to
``evals/thresholds.json``. The CLI (`sightline eval`) is a thin shell over these.
"""

from __future__ import annotations

from evals.harness.model import EvalContext, Run, SuiteResult
from evals.harness.registry import Suite, get_suite, register, suite_names

__all__ = [
    "EvalContext",
    "Run",
    "Suite",
    "SuiteResult",
    "get_suite",
    "register",
    "suite_names",
]
