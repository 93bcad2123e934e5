"""The ``analyst`` suite: issue 7's agent gold set (``evals/gold/``) scored through the harness.

The gold set and its per-question scorer belong to the agent area; this suite asks each question
on a private copy of the data dir, hands the answers to that scorer, and reports tool-choice and
argument accuracy, numeric exactness, grounding rate, citation precision, the decline rate on
unanswerable questions and accuracy per intent, with latency, tokens and cost per answer.
"""

from __future__ import annotations

import importlib
from typing import Any

from evals.harness import agent_runs
from evals.harness.metrics import mean, percentile
from evals.harness.model import EvalContext, SuiteResult
from evals.harness.registry import Suite, register


def _gold_module() -> Any | None:
    try:
        return importlib.import_module("evals.gold")
    except ImportError:
        return None


def run(ctx: EvalContext) -> SuiteResult:
    answer_fn = agent_runs.agent_answer_fn()
    if answer_fn is None:
        return SuiteResult.unavailable(agent_runs.WAITING_FOR_AGENT.removeprefix("unavailable: "))
    gold = _gold_module()
    if gold is None:
        return SuiteResult.unavailable("waiting for issue 7 (the agent gold set in evals/gold/)")
    return SuiteResult.unavailable("waiting for issue 7 (evals/gold scorer interface)")


def cost_charts(
    records: list[dict[str, Any]], latencies: list[float], price_per_mtok: tuple[float, float]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Latency, tokens and cost per answer: (metrics, charts)."""
    tokens, costs = [], []
    for r in records:
        t = r.get("tokens") or {}
        p_in = int(t.get("prompt", 0) or 0) if isinstance(t, dict) else 0
        p_out = int(t.get("completion", 0) or 0) if isinstance(t, dict) else 0
        if isinstance(t, int):
            p_in = t
        tokens.append(p_in + p_out)
        costs.append((p_in * price_per_mtok[0] + p_out * price_per_mtok[1]) / 1e6)
    metrics = {
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "mean_tokens": mean(tokens),
        "mean_cost_usd": mean(costs),
    }
    return metrics, {"latency_ms": latencies, "tokens": tokens, "cost_usd": costs}


register(
    Suite(
        "analyst", "agent gold set: tools, arguments, numbers, grounding, citations, declines", run
    )
)
