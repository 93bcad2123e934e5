"""Benchmark: agent overhead per question, excluding LLM time, with the demo data loaded.

    python -m evals.bench_agent [--home DIR] [--rounds 5]

The scripted backend answers instantly (zero LLM latency): each question is one tool call and a
final text. Measured side by side in one run, on a copy of the data dir:

* ``agent``: ``app.agent.answer`` end to end — context, tool call through the langchain schema
  layer, evidence, grounding, record building and the durable (fsync'd) trail append;
* ``tools``: the time spent inside the tools during those same answers (the baseline the
  overhead is measured against);
* ``bare``: the same tool calls made directly through ``call_tool`` on a fresh context, with no
  agent around them;
* ``offline``: the offline planner answering the same questions in natural language.

Target (issue 7): agent p95 <= 150 ms end to end including the durable trail write.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

CALLS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "What was JPM's 20-day realized volatility on 2020-03-16?",
        "get_features",
        {"entities": ["JPM"], "names": ["realized_vol_20d"], "as_of": "2020-03-16"},
    ),
    (
        "Compare the beta of AAPL, MSFT and JPM at 2021-12-31",
        "get_features",
        {"entities": ["AAPL", "MSFT", "JPM"], "names": ["beta_252d"], "as_of": "2021-12-31"},
    ),
    (
        "Show the history of AAPL's 20-day realized volatility in 2020",
        "get_feature_history",
        {"entity": "AAPL", "name": "realized_vol_20d", "start": "2020-01-01", "end": "2020-12-31"},
    ),
    (
        "What was the VIX on 2018-02-05?",
        "query_features",
        {
            "sql": "SELECT date, value FROM macro WHERE series = 'vix' "
            "AND date <= DATE '2018-02-05' ORDER BY date DESC LIMIT 1"
        },
    ),  # fmt: skip
    (
        "What were Microsoft's total assets in fiscal 2023?",
        "query_features",
        {
            "sql": "SELECT fiscal_year, value FROM fundamentals WHERE ticker = 'MSFT' AND item = "
            "'total_assets' AND fiscal_year = 2023"
        },
    ),  # fmt: skip
    ("Which risk model version is in use?", "describe_data", {"topic": "models"}),
    ("What is the PD of loan 17?", "default_probability", {"loan_id": 17}),
]


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def run(home: Path, rounds: int) -> dict[str, Any]:
    """Measure every mode over ``rounds`` passes of the questions; returns the figures in ms."""
    from app.agent import answer
    from app.agent.toolbox import context_for
    from app.llm.base import Reply
    from app.llm.scripted import ScriptedChatModel, tool_call
    from app.runtime import Runtime
    from app.settings import Settings
    from tools.agent_tools import call_tool

    with tempfile.TemporaryDirectory(prefix="sightline-bench-") as tmp:
        copy = Path(tmp) / "home"
        shutil.copytree(home, copy, ignore=shutil.ignore_patterns("*.lock", "*.tmp"))
        rt = Runtime(Settings(home=copy, rate_limit_per_minute=1_000_000))
        user = rt.user("analyst")
        # Warm up: imports, tiktoken, the trail file, the feature store.
        for question, tool, args in CALLS:
            model = ScriptedChatModel([Reply(tool_calls=(tool_call(tool, args),)), "Done."])
            answer(rt, question, user, llm=model)
            answer(rt, question, user)
        agent, tools, bare, offline, trail = [], [], [], [], []
        for _ in range(rounds):
            for question, tool, args in CALLS:
                model = ScriptedChatModel([Reply(tool_calls=(tool_call(tool, args),)), "Done."])
                t0 = time.perf_counter()
                result = answer(rt, question, user, llm=model)
                agent.append((time.perf_counter() - t0) * 1000)
                assert result.status == "answered", result.answer
                tools.append(sum(c["ms"] for c in result.tool_calls))

                ctx = context_for(rt, user)
                t0 = time.perf_counter()
                out = call_tool(ctx, tool, args)
                bare.append((time.perf_counter() - t0) * 1000)
                ctx.close()
                assert "error" not in out, out

                t0 = time.perf_counter()
                answer(rt, question, user)
                offline.append((time.perf_counter() - t0) * 1000)

                record = result.to_json() | {"user": "analyst", "role": "analyst", "kind": "answer"}
                record.pop("chart", None)
                record["id"] = record["id"][:-6] + "bench0"
                t0 = time.perf_counter()
                rt.trail.append(_record_for_append(record))
                trail.append((time.perf_counter() - t0) * 1000)
    overhead = [a - t for a, t in zip(agent, tools, strict=True)]
    return {
        "questions": len(agent),
        "agent_p50_ms": pct(agent, 50),
        "agent_p95_ms": pct(agent, 95),
        "tools_p50_ms": pct(tools, 50),
        "tools_p95_ms": pct(tools, 95),
        "overhead_p50_ms": pct(overhead, 50),
        "overhead_p95_ms": pct(overhead, 95),
        "overhead_to_tool_time": statistics.median(
            o / t for o, t in zip(overhead, tools, strict=True) if t > 0
        ),
        "bare_tool_p50_ms": pct(bare, 50),
        "agent_to_bare_tool_p50": pct(agent, 50) / pct(bare, 50),
        "trail_append_p50_ms": pct(trail, 50),
        "trail_append_p95_ms": pct(trail, 95),
        "offline_p50_ms": pct(offline, 50),
        "offline_p95_ms": pct(offline, 95),
    }


def _record_for_append(record: dict[str, Any]) -> dict[str, Any]:
    import uuid

    keep = ("question", "answer", "status", "user", "role", "kind", "versions", "latency_ms")
    out = {k: record[k] for k in keep}
    out["id"] = uuid.uuid4().hex
    out["tokens"] = record["tokens"]
    return out


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", default=None, help="data dir with the demo loaded")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from app.offline import apply_offline_guards
    from app.settings import load_settings

    apply_offline_guards()
    home = Path(args.home) if args.home else load_settings().home
    figures = run(home, args.rounds)
    for key, value in figures.items():
        print(f"{key:26s} {value:,.2f}" if isinstance(value, float) else f"{key:26s} {value}")
    print(
        f"\nagent p95 {figures['agent_p95_ms']:.1f} ms (target <= 150 ms incl. durable trail "
        f"write); overhead is {figures['overhead_to_tool_time']:.2f}x the time inside tools; "
        f"end to end is {figures['agent_to_bare_tool_p50']:.2f}x a bare tool call (p50)"
    )


if __name__ == "__main__":
    main()
