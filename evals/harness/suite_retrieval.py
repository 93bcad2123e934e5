"""The ``retrieval`` suite: page-level recall@k / MRR on FinanceBench (issue 4's script).

Runs ``python -m evals.retrieval_eval`` (the documents area's evaluation, with the LlamaIndex
default recipe side by side) in a child process — it prints its own tables on stdout, which must
stay clean for ``--json`` — and reads the JSON it writes. Skips with a message when the data set is
not beside the repository. ``retrieval_docs`` limits the run to the first N filings (the CI gate
does this: embedding all 26 filings takes tens of minutes on two cores).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from evals.harness.model import EvalContext, SuiteResult
from evals.harness.registry import Suite, register

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "financebench-dev"
# The script's own default: its content-hash embedding cache survives between runs here.
CACHE = Path("/tmp/sightline-eval-cache")
KS = (1, 3, 5, 10)


def data_dir(ctx: EvalContext) -> Path:
    """Where the FinanceBench subset is (``retrieval_data`` overrides the default)."""
    return Path(ctx.options.get("retrieval_data") or DATA)


def run(ctx: EvalContext) -> SuiteResult:
    data = data_dir(ctx)
    if not (data / "questions.jsonl").is_file():
        return SuiteResult(
            status="skipped",
            message=f"FinanceBench data not found at {data} (pass --retrieval-data)",
        )
    if not (REPO / "evals" / "retrieval_eval.py").is_file():
        return SuiteResult.unavailable("waiting for issue 4 (evals/retrieval_eval.py)")
    out = ctx.workdir / "retrieval.json"
    cache = Path(ctx.options.get("retrieval_cache") or CACHE)
    cmd = [
        sys.executable,
        "-m",
        "evals.retrieval_eval",
        "--data",
        str(data),
        "--cache-dir",
        str(cache),
        "--json",
        str(out),
        "--device",
        ctx.rt.settings.embedding_device,
    ]
    if ctx.options.get("retrieval_docs"):
        cmd += ["--docs", str(int(ctx.options["retrieval_docs"]))]
    if not ctx.options.get("retrieval_baseline", True):
        cmd.append("--no-baseline")
    ctx.say(f"  running {' '.join(cmd[2:])}")
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return SuiteResult(
            status="error", message=f"retrieval_eval exited {done.returncode}: {' | '.join(tail)}"
        )
    return from_report(json.loads(out.read_text(encoding="utf-8")))


def _key(setting: str) -> str:
    return setting.replace("-", "_")


def from_report(report: dict[str, Any]) -> SuiteResult:
    """Metrics and recall@k curves from the JSON ``retrieval_eval --json`` writes."""
    metrics: dict[str, float | int | None] = {
        "questions": report.get("questions"),
        "skipped_questions": report.get("skipped"),
        "pdfs": report.get("pdfs"),
    }
    curves: dict[str, dict[str, float]] = {}
    cases = []
    for system, by_setting in report.get("results", {}).items():
        prefix = "" if system == "sightline" else "baseline_"
        for setting, m in by_setting.items():
            for k in KS:
                metrics[f"{prefix}recall_at_{k}_{_key(setting)}"] = round(m[f"R@{k}"], 4)
            metrics[f"{prefix}mrr_at_10_{_key(setting)}"] = round(m["MRR@10"], 4)
            metrics[f"{prefix}query_{_key(setting)}_ms"] = round(m.get("s/query", 0) * 1000, 1)
            curves[f"{system} {setting}"] = {str(k): m[f"R@{k}"] for k in KS}
            cases.append({"id": f"{system} {setting}", "passed": True, **m})
    base = report.get("results", {}).get("llamaindex-default")
    ours = report.get("results", {}).get("sightline")
    if base and ours:
        for setting in ours:
            b = base.get(setting, {}).get("R@5")
            if b:
                metrics[f"recall_at_5_ratio_{_key(setting)}"] = round(ours[setting]["R@5"] / b, 3)
    return SuiteResult(metrics=metrics, cases=cases, charts={"recall_at_k": curves})


register(
    Suite(
        "retrieval",
        "page recall@k and MRR on FinanceBench, with the LlamaIndex default recipe as baseline",
        run,
    )
)
