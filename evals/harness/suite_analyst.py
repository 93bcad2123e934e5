"""The ``analyst`` suite: issue 7's agent gold set (``evals/gold/``) scored through the harness.

The gold set and its per-question scorer belong to the agent area (``evals.gold.build``,
``evals.gold.score``); this suite builds the set from the data dir under test, asks each question
on a private copy, hands every answer to that scorer, and adds what the harness tracks across runs:
tool choice (names only), citation precision, latency, tokens and cost per answer.

Metrics: ``tool_choice_accuracy`` (the expected tools were called), ``tool_accuracy`` (and with
the expected arguments), ``number_accuracy`` (numeric exactness at the printed precision),
``grounded_rate``, ``citation_accuracy`` (the expected document is cited),
``citation_precision`` (share of citations that point at the expected document),
``decline_rate`` (unanswerables declined), ``false_decline_rate``, ``all_ok``, per-intent accuracy.
"""

from __future__ import annotations

import importlib
from typing import Any

from evals.harness import agent_runs
from evals.harness.metrics import mean, percentile, rate
from evals.harness.model import EvalContext, SuiteResult
from evals.harness.registry import Suite, register


def _gold_modules() -> tuple[Any, Any] | None:
    try:
        return (
            importlib.import_module("evals.gold.build"),
            importlib.import_module("evals.gold.score"),
        )
    except ImportError:
        return None


def run(ctx: EvalContext) -> SuiteResult:
    answer_fn = agent_runs.agent_answer_fn()
    if answer_fn is None:
        return SuiteResult.unavailable("waiting for issue 7 (app.agent.answer)")
    modules = _gold_modules()
    if modules is None:
        return SuiteResult.unavailable("waiting for issue 7 (the agent gold set in evals/gold/)")
    build, score = modules
    rt = agent_runs.private_runtime(ctx)
    with rt.warehouse.reader() as con:
        gold = build.build(con, rt.registry)
    limit = ctx.options.get("analyst_limit")
    if limit:
        gold = gold[: int(limit)]
    scores: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    latencies: list[float] = []
    choice_hits, choice_total, precisions = 0, 0, []
    for i, item in enumerate(gold, start=1):
        user = rt.user(item.get("user", "analyst"))  # restricted-ticker items: private side
        history = [
            agent_runs.answer_record(answer_fn(rt, q, user)) for q in item.get("history", [])
        ]
        record, ms = _ask(answer_fn, rt, item["question"], user, history)
        latencies.append(ms)
        records.append(record)
        s = score.score_answer(item, record)
        expected = item["expected"]
        if not expected["decline"] and expected["tools"]:
            called = {c.get("tool") for c in record.get("tool_calls") or []}
            s["tool_choice_ok"] = {t["tool"] for t in expected["tools"]} <= called
            choice_hits += s["tool_choice_ok"]
            choice_total += 1
        docs = [c.get("doc_name") for c in record.get("citations") or []]
        if expected.get("citation_doc") and docs:
            precisions.append(sum(d == expected["citation_doc"] for d in docs) / len(docs))
        s["question"] = item["question"]
        s["answer"] = str(record.get("answer", ""))[:400]
        s["passed"] = score._all_ok(s)
        scores.append(s)
        ctx.say(f"  analyst {i}/{len(gold)}: {'ok' if s['passed'] else 'miss'} ({item['intent']})")
    summary = score.summarize(scores)
    per_intent = summary.pop("per_intent", {})
    metrics: dict[str, float | int | None] = {
        "tool_choice_accuracy": rate(choice_hits, choice_total),
        **summary,
        "citation_precision": mean(precisions),
    }
    cost_metrics, charts = cost_charts(
        records, latencies, ctx.options.get("price_per_mtok", (0.0, 0.0))
    )
    metrics.update(cost_metrics)
    charts["per_intent"] = per_intent
    return SuiteResult(metrics=metrics, cases=scores, charts=charts)


def _ask(
    answer_fn: Any, rt: Any, question: str, user: Any, history: list[dict[str, Any]]
) -> tuple[dict[str, Any], float]:
    if not history:
        return agent_runs.ask(answer_fn, rt, question, user)
    import time

    t0 = time.perf_counter()
    record = agent_runs.answer_record(answer_fn(rt, question, user, history=history))
    return record, (time.perf_counter() - t0) * 1000


def cost_charts(
    records: list[dict[str, Any]], latencies: list[float], price_per_mtok: tuple[float, float]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Latency, tokens and cost per answer: (metrics, charts)."""
    tokens, costs = [], []
    for r in records:
        t = r.get("tokens") or {}
        p_in = int(t.get("prompt", 0) or 0) if isinstance(t, dict) else int(t or 0)
        p_out = int(t.get("completion", 0) or 0) if isinstance(t, dict) else 0
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
