"""The ``sql`` suite: a BIRD-style NL->SQL gold set over the demo schema, scored by result set.

Every gold query is first checked to pass the SQL guard and return rows (``gold_valid``). The
offline planner is scored on the SQL its tool calls ran (``planner_execution_accuracy``) and on
whether its answer states the gold figures (``planner_answer_accuracy``). With ``--llm
openai:MODEL`` the model writes one SQL statement per question from the schema and the evidence;
it runs through the same guard and locked read-only connection (``llm_execution_accuracy``).
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from evals.harness import agent_runs
from evals.harness.metrics import mean, percentile, rate, result_sets_match
from evals.harness.model import EvalContext, SuiteResult
from evals.harness.registry import Suite, register
from evals.harness.textnum import stated

GOLD_FILE = Path(__file__).resolve().parents[1] / "suites" / "sql_gold.jsonl"

PROMPT = """You write one DuckDB SQL SELECT statement that answers the question.
Tables (columns):
{schema}
Rules: one statement, SELECT or WITH only, only these tables; return just the columns asked for.
Reply with the SQL in a ```sql block and nothing else."""


def load_gold(path: Path = GOLD_FILE) -> list[dict[str, Any]]:
    """The gold items: id, intent, question, evidence, gold_sql."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for item in items:
        missing = {"id", "intent", "question", "evidence", "gold_sql"} - set(item)
        if missing:
            raise ValueError(f"gold item {item.get('id')} lacks {sorted(missing)}")
    return items


def schema_text() -> str:
    """The tables the agent may read, without personal-data columns (SECURITY.md 20)."""
    from ingestion.schemas import TABLES
    from tools.sql_guard import PII_COLUMNS

    lines = []
    for name, table in TABLES.items():
        hidden = PII_COLUMNS.get(name, frozenset())
        cols = ", ".join(f"{c.name} {c.dtype}" for c in table.columns if c.name not in hidden)
        lines.append(f"- {name}({cols}): {table.description}")
    return "\n".join(lines)


def extract_sql(text: str) -> str:
    """The SQL in a model reply: the first ```sql block, else the whole reply."""
    match = re.search(r"```(?:sql)?\s*(.*?)```", text, re.DOTALL | re.IGNORECASE)
    return (match.group(1) if match else text).strip().rstrip(";").strip()


def run(ctx: EvalContext) -> SuiteResult:
    from tools.sql import open_locked, run_query

    gold = load_gold(Path(ctx.options["sql_gold"])) if ctx.options.get("sql_gold") else load_gold()
    warehouse = Path(ctx.rt.settings.home) / "warehouse.duckdb"
    if not warehouse.exists():
        return SuiteResult(
            status="skipped",
            message=f"no warehouse in {ctx.rt.settings.home}: run `sightline demo` first",
        )
    con = open_locked(warehouse)
    expected: dict[str, list[list[Any]]] = {}
    cases: dict[str, dict[str, Any]] = {}
    try:
        for item in gold:
            case = {"id": item["id"], "intent": item["intent"], "question": item["question"]}
            try:
                rows = run_query(con, item["gold_sql"]).rows
                case["gold_rows"] = rows[:5]
                case["gold_valid"] = bool(rows)
            except Exception as exc:  # noqa: BLE001 - a broken gold item is scored, not fatal
                case["gold_valid"], case["gold_error"] = False, str(exc)[:200]
                rows = []
            expected[item["id"]] = rows
            cases[item["id"]] = case
        metrics: dict[str, float | int | None] = {
            "questions": len(gold),
            "gold_valid": rate(sum(c["gold_valid"] for c in cases.values()), len(gold)),
        }
        charts: dict[str, Any] = {}
        _score_planner(ctx, gold, expected, cases, metrics)
        if ctx.llm.startswith("openai:"):
            _score_llm(ctx, gold, expected, cases, metrics, charts, con, run_query)
    finally:
        con.close()
    per_intent = _per_intent(gold, cases)
    if per_intent:
        charts["per_intent"] = per_intent
    for case in cases.values():
        case["passed"] = bool(case["gold_valid"]) and all(
            case.get(k, True) for k in ("planner_match", "llm_match")
        )
    note = "" if "planner_execution_accuracy" in metrics else agent_runs.WAITING_FOR_AGENT
    return SuiteResult(metrics=metrics, cases=list(cases.values()), charts=charts, message=note)


def _score_planner(
    ctx: EvalContext,
    gold: list[dict[str, Any]],
    expected: dict[str, list[list[Any]]],
    cases: dict[str, dict[str, Any]],
    metrics: dict[str, float | int | None],
) -> None:
    from tools.sql import open_locked, run_query

    answer_fn = agent_runs.agent_answer_fn()
    if answer_fn is None:
        return
    rt = agent_runs.private_runtime(ctx, llm="offline")
    user = rt.user("analyst")
    con = open_locked(Path(rt.settings.home) / "warehouse.duckdb")
    sql_hits = answer_hits = with_sql = 0
    try:
        for item in gold:
            case = cases[item["id"]]
            record, _ms = agent_runs.ask(answer_fn, rt, item["question"], user)
            statements = agent_runs.sql_calls(record)
            match = False
            if statements:
                with_sql += 1
                case["planner_sql"] = statements[-1]
                try:
                    got = run_query(con, statements[-1]).rows
                    match = result_sets_match(expected[item["id"]], got)
                except Exception as exc:  # noqa: BLE001 - a failing planner query is a miss
                    case["planner_error"] = str(exc)[:200]
            case["planner_match"] = match
            sql_hits += match
            answered = stated(expected[item["id"]], record.get("answer") or "")
            case["planner_answer_ok"] = answered
            answer_hits += answered
    finally:
        con.close()
    metrics["planner_execution_accuracy"] = rate(sql_hits, len(gold))
    metrics["planner_sql_rate"] = rate(with_sql, len(gold))
    metrics["planner_answer_accuracy"] = rate(answer_hits, len(gold))


def _score_llm(
    ctx: EvalContext,
    gold: list[dict[str, Any]],
    expected: dict[str, list[list[Any]]],
    cases: dict[str, dict[str, Any]],
    metrics: dict[str, float | int | None],
    charts: dict[str, Any],
    con: Any,
    run_query: Any,
) -> None:
    from app.llm import LLMUnavailable, chat_model
    from tools.errors import GuardError

    model = chat_model(ctx.llm, timeout_s=ctx.rt.settings.llm_timeout_s, settings=ctx.rt.settings)
    assert model is not None  # openai:MODEL always builds a client
    system = PROMPT.format(schema=schema_text())
    price_in, price_out = ctx.options.get("price_per_mtok", (0.0, 0.0))
    hits = rejected = errors = 0
    latencies: list[float] = []
    tokens: list[int] = []
    costs: list[float] = []
    for i, item in enumerate(gold, start=1):
        case = cases[item["id"]]
        messages = [
            {"role": "system", "content": system},
            {
                "role": "user",
                "content": f"Evidence: {item['evidence']}\nQuestion: {item['question']}",
            },
        ]
        t0 = time.perf_counter()
        try:
            reply = model.complete(messages)
        except LLMUnavailable as exc:
            errors += 1
            case["llm_match"], case["llm_error"] = False, str(exc)[:200]
            continue
        latencies.append((time.perf_counter() - t0) * 1000)
        tokens.append(reply.prompt_tokens + reply.completion_tokens)
        costs.append((reply.prompt_tokens * price_in + reply.completion_tokens * price_out) / 1e6)
        sql = extract_sql(reply.content)
        case["llm_sql"] = sql
        match = False
        try:
            match = result_sets_match(expected[item["id"]], run_query(con, sql).rows)
        except GuardError as exc:
            rejected += 1
            case["llm_error"] = f"guard: {exc}"[:200]
        except Exception as exc:  # noqa: BLE001 - a query that fails is a miss, not a crash
            case["llm_error"] = str(exc)[:200]
        case["llm_match"] = match
        hits += match
        ctx.say(f"  sql {i}/{len(gold)}: {'ok' if match else 'miss'}")
    metrics["llm_execution_accuracy"] = rate(hits, len(gold))
    metrics["llm_guard_rejections"] = rejected
    metrics["llm_errors"] = errors
    metrics["llm_latency_p50_ms"] = percentile(latencies, 50)
    metrics["llm_latency_p95_ms"] = percentile(latencies, 95)
    metrics["llm_mean_tokens"] = mean(tokens)
    metrics["llm_mean_cost_usd"] = mean(costs)
    charts.update(latency_ms=latencies, tokens=tokens, cost_usd=costs)


def _per_intent(gold: list[dict[str, Any]], cases: dict[str, dict[str, Any]]) -> dict[str, float]:
    # The chart shows the scored path: the LLM when there is one, else the planner.
    key = next(
        (k for k in ("llm_match", "planner_match") if any(k in c for c in cases.values())), None
    )
    if key is None:
        return {}
    by_intent: dict[str, list[bool]] = defaultdict(list)
    for item in gold:
        by_intent[item["intent"]].append(bool(cases[item["id"]].get(key)))
    return {intent: round(sum(v) / len(v), 4) for intent, v in sorted(by_intent.items())}


register(Suite("sql", "NL->SQL gold set over the demo schema, compared by result set", run))
