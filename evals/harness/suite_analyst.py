"""The ``analyst`` suite: the agent gold set and the generalization set (``evals/gold/``).

Two sets, each asked on a private copy of the data dir under test:

- ``gold`` — issue 7's 84 questions (``evals.gold.build`` / ``evals.gold.score``), written with
  the planner; metrics unprefixed as before: ``tool_choice_accuracy`` (the expected tools were
  called), ``tool_accuracy`` (and with the expected arguments), ``number_accuracy``,
  ``grounded_rate``, ``citation_accuracy``, ``citation_precision``, ``decline_rate``,
  ``false_decline_rate``, ``all_ok``, per-intent accuracy.
- ``dev`` and ``locked`` — the generalization set (``evals.gold.analyst_set``, gold recomputed
  with plain SQL/numpy on the data under test), scored by ``evals.gold.analyst_score``: per split
  ``{split}_accuracy``, ``{split}_wrong_answer_rate``, ``{split}_miss_rate``,
  ``{split}_degraded_rate`` (LLM runs: offline fallbacks, an LLM miss counted apart),
  ``{split}_interpretation_coverage``, tokens and seconds per question; and over both splits
  ``accuracy``, ``wrong_answer_rate``, ``interpretation_coverage``.

Option ``analyst_sets`` (default all three) picks the sets; ``analyst_limit`` cuts each set.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

from evals.harness import agent_runs
from evals.harness.metrics import mean, percentile, rate
from evals.harness.model import EvalContext, SuiteResult
from evals.harness.registry import Suite, register

SETS = ("gold", "dev", "locked")


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
    sets = tuple(ctx.options.get("analyst_sets") or SETS)
    unknown = set(sets) - set(SETS)
    if unknown:
        from ingestion.errors import InputError

        raise InputError(
            f"unknown analyst set(s) {sorted(unknown)}", hint=f"choose from {', '.join(SETS)}"
        )
    rt = agent_runs.private_runtime(ctx)
    result = SuiteResult(metrics={}, cases=[], charts={})
    if "gold" in sets:
        result = _legacy(ctx, rt, answer_fn, *modules)
    splits = tuple(s for s in ("dev", "locked") if s in sets)
    if splits:
        _generalization(ctx, rt, answer_fn, splits, result)
    return result


def _legacy(ctx: EvalContext, rt: Any, answer_fn: Any, build: Any, score: Any) -> SuiteResult:
    with rt.warehouse.reader() as con:
        gold = build.build(con, rt.registry)
    limit = ctx.options.get("analyst_limit")
    if limit:
        gold = gold[: int(limit)]
    scores: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    latencies: list[float] = []
    choice_hits, choice_total, precisions, degraded = 0, 0, [], 0
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
        if _llm_run(ctx) and record.get("status") == "degraded":
            s["llm_ok"] = False  # the offline fallback answered: an LLM miss, however good
            degraded += 1
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
    if _llm_run(ctx):
        metrics["gold_degraded_rate"] = rate(degraded, len(gold))
    cost_metrics, charts = cost_charts(
        records, latencies, ctx.options.get("price_per_mtok", (0.0, 0.0))
    )
    metrics.update(cost_metrics)
    charts["per_intent"] = per_intent
    return SuiteResult(metrics=metrics, cases=scores, charts=charts)


def _generalization(
    ctx: EvalContext, rt: Any, answer_fn: Any, splits: tuple[str, ...], result: SuiteResult
) -> None:
    """Ask and score the dev/locked splits; adds metrics, cases and charts to ``result``."""
    from evals.gold import analyst_score, analyst_set

    with rt.warehouse.reader() as con:
        items = analyst_set.regold(con, analyst_set.load(splits))
    limit = ctx.options.get("analyst_limit")
    if limit:
        items = [i for s in splits for i in [x for x in items if x["split"] == s][: int(limit)]]
    llm_run = _llm_run(ctx)
    cases: list[dict[str, Any]] = []
    latencies: list[float] = []
    for n, item in enumerate(items, start=1):
        record, ms = agent_runs.ask(answer_fn, rt, item["question"], rt.user(item["user"]))
        case = analyst_score.score(item, record, llm_run=llm_run)
        case["seconds"] = round(ms / 1000, 3)
        case["answer"] = str(record.get("answer", ""))[:400]
        case["gold_drift"] = item["drift"]
        cases.append(case)
        latencies.append(ms)
        ctx.say(f"  analyst {item['split']} {n}/{len(items)}: {case['outcome']} ({item['id']})")
    metrics, charts = split_metrics(cases, splits, llm_run=llm_run)
    result.metrics.update(metrics)
    result.cases.extend(cases)
    result.charts.setdefault("per_intent", {}).update(charts["per_intent"])
    result.charts.setdefault("latency_ms", []).extend(latencies)
    result.charts["splits"] = charts["splits"]


def _llm_run(ctx: EvalContext) -> bool:
    """Scoring an LLM backend (not the offline planner): ``degraded`` is then an LLM miss."""
    return bool(ctx.llm) and not ctx.llm.startswith("offline")


def split_metrics(
    cases: list[dict[str, Any]], splits: tuple[str, ...], *, llm_run: bool
) -> tuple[dict[str, float | int | None], dict[str, Any]]:
    """Suite metrics and charts from scored generalization cases (``analyst_score.score``).

    Over both splits: ``accuracy``, ``wrong_answers``, ``wrong_answer_rate``,
    ``interpretation_coverage`` (and ``degraded_rate`` on LLM runs); per split every
    ``analyst_score.summarize`` figure prefixed ``{split}_``; ``gold_drift``: items whose gold
    recomputed on the data under test differs from the stored file.
    """
    from evals.gold import analyst_score

    overall = analyst_score.summarize(cases)
    keys = ["accuracy", "wrong_answers", "wrong_answer_rate", "interpretation_coverage"]
    if llm_run:
        keys.append("degraded_rate")
    metrics: dict[str, float | int | None] = {k: overall[k] for k in keys}
    for split in splits:
        rows = [c for c in cases if c["split"] == split]
        metrics.update(analyst_score.summarize(rows, prefix=f"{split}_"))
    metrics["gold_drift"] = sum(bool(c.get("gold_drift")) for c in cases)
    charts = {
        "per_intent": analyst_score.per_family(cases),
        "splits": {
            split: analyst_score.summarize([c for c in cases if c["split"] == split])
            for split in splits
        },
    }
    return metrics, charts


def _ask(
    answer_fn: Any, rt: Any, question: str, user: Any, history: list[dict[str, Any]]
) -> tuple[dict[str, Any], float]:
    if not history:
        return agent_runs.ask(answer_fn, rt, question, user)
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
