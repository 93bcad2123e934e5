"""Running the agent for a suite: availability checks, a private data-dir copy, answer records.

Asking the agent appends to the answer trail, so suites never ask against the data dir under test:
they ask against a copy in their work folder (``private_runtime``).
"""

from __future__ import annotations

import dataclasses
import importlib
import shutil
import time
from pathlib import Path
from typing import Any

from evals.harness.model import EvalContext

WAITING_FOR_AGENT = "unavailable: waiting for issue 7 (app.agent.answer)"


def agent_answer_fn() -> Any | None:
    """``app.agent.answer`` when the agent has landed, else None."""
    try:
        module = importlib.import_module("app.agent")
    except ImportError:
        return None
    return getattr(module, "answer", None)


def private_runtime(ctx: EvalContext, *, llm: str | None = None) -> Any:
    """A Runtime over a copy of the data dir under test, with the LLM backend ``llm``."""
    from app.runtime import Runtime

    source = Path(ctx.rt.settings.home)
    home = ctx.workdir / "home"
    if not home.exists():
        # Lock files and half-written copies belong to the source's writers, not to us.
        shutil.copytree(source, home, ignore=shutil.ignore_patterns("*.lock", "*.tmp", "evals"))
    # The harness asks hundreds of questions a minute as one user: the per-user rate limit
    # (tested in its own area) would turn most of them into refusals and hide what is measured.
    settings = ctx.rt.settings.model_copy(
        update={"home": home, "llm": llm or ctx.llm, "rate_limit_per_minute": 1_000_000}
    )
    return Runtime(settings)


def answer_record(answer: Any) -> dict[str, Any]:
    """An Answer object (dataclass, pydantic model or dict) as the ``ask --json`` dict."""
    if isinstance(answer, dict):
        return answer
    for method in ("to_json", "as_dict", "to_dict", "model_dump"):
        fn = getattr(answer, method, None)
        if callable(fn):
            return dict(fn())
    if dataclasses.is_dataclass(answer) and not isinstance(answer, type):
        return dataclasses.asdict(answer)
    raise TypeError(f"cannot read an answer of type {type(answer).__name__}")


def ask(answer_fn: Any, rt: Any, question: str, user: Any) -> tuple[dict[str, Any], float]:
    """Ask one question; returns (answer dict, wall ms). Errors become a ``status: error`` dict."""
    from ingestion.errors import SightlineError

    t0 = time.perf_counter()
    try:
        record = answer_record(answer_fn(rt, question, user))
    except SightlineError as exc:
        # A refusal raised as an error (permission, rate limit) is still an answer to score.
        record = {"status": "error", "answer": str(exc), "citations": [], "tool_calls": []}
    return record, (time.perf_counter() - t0) * 1000


def sql_calls(record: dict[str, Any]) -> list[str]:
    """The SQL statements the answer's tool calls ran (any tool whose args carry ``sql``)."""
    found = []
    for call in record.get("tool_calls") or []:
        args = call.get("args") or {}
        if isinstance(args, dict):
            for key in ("sql", "query"):
                if isinstance(args.get(key), str) and "select" in args[key].lower():
                    found.append(args[key])
    return found
