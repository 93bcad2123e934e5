"""The ``retrieval`` suite: page-level recall@k / MRR on FinanceBench (issue 4's script).

Runs ``evals/retrieval_eval.py`` (the documents area's evaluation, with the LlamaIndex default
recipe side by side) when the data set is present beside the repository, and skips with a message
when it is not.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from evals.harness.model import EvalContext, SuiteResult
from evals.harness.registry import Suite, register

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "financebench-dev"


def data_dir(ctx: EvalContext) -> Path:
    """Where the FinanceBench subset is (``--retrieval-data`` overrides the default)."""
    return Path(ctx.options.get("retrieval_data") or DATA)


def _module() -> Any | None:
    try:
        return importlib.import_module("evals.retrieval_eval")
    except ImportError:
        return None


def run(ctx: EvalContext) -> SuiteResult:
    data = data_dir(ctx)
    if not data.is_dir():
        return SuiteResult(status="skipped", message=f"FinanceBench data not found at {data}")
    module = _module()
    if module is None:
        return SuiteResult.unavailable("waiting for issue 4 (evals/retrieval_eval.py)")
    return SuiteResult.unavailable("waiting for issue 4 (retrieval_eval interface)")


register(
    Suite(
        "retrieval",
        "page recall@k and MRR on FinanceBench, with the LlamaIndex default recipe as baseline",
        run,
    )
)
