"""Replay: re-run every logged tool call of an answer and compare with what was logged.

The driver knows nothing about tools: the agent supplies ``run_tool(name, args, versions)``
(``app.agent.toolbox.run_logged_tool`` bound to a runtime), which must run the named tool with
the logged arguments against the logged model versions. Each call is compared on its own, so a
report says exactly which call no longer reproduces and where its output differs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from app.trail.record import ANSWER_LIKE_KINDS, to_jsonable
from app.trail.store import StoredRecord
from ingestion.errors import InputError

RunTool = Callable[[str, dict[str, Any], dict[str, Any]], Any]
REL_TOL = 1e-9  # float results may differ in the last bits across BLAS builds, not more


@dataclass
class CallReplay:
    """One replayed call: the logged and the replayed output, and whether they match."""

    index: int
    tool: str
    args: dict[str, Any]
    match: bool
    difference: str | None = None
    logged: Any = None
    replayed: Any = None
    error: str | None = None


@dataclass
class ReplayReport:
    """Outcome of replaying one record: ``ok`` when every call reproduced its logged output."""

    record_id: str
    versions: dict[str, Any]
    calls: list[CallReplay] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every call reproduced its logged output (also when there were none)."""
        return all(c.match for c in self.calls)

    def to_json(self) -> dict[str, Any]:
        """The ``trail replay --json`` shape."""
        return {
            "record_id": self.record_id,
            "ok": self.ok,
            "versions": self.versions,
            "calls": [asdict(c) for c in self.calls],
        }


def first_difference(logged: Any, replayed: Any, path: str = "result") -> str | None:
    """Where two JSON values first differ (None when equal; floats within ``REL_TOL``)."""
    if isinstance(logged, bool) or isinstance(replayed, bool):
        return None if logged is replayed else f"{path}: logged {logged!r}, now {replayed!r}"
    if isinstance(logged, int | float) and isinstance(replayed, int | float):
        if math.isclose(logged, replayed, rel_tol=REL_TOL, abs_tol=0.0):
            return None
        return f"{path}: logged {logged!r}, now {replayed!r}"
    if isinstance(logged, dict) and isinstance(replayed, dict):
        for key in sorted(set(logged) | set(replayed)):
            if key not in replayed:
                return f"{path}.{key}: logged but missing now"
            if key not in logged:
                return f"{path}.{key}: new, not in the logged output"
            diff = first_difference(logged[key], replayed[key], f"{path}.{key}")
            if diff:
                return diff
        return None
    if isinstance(logged, list) and isinstance(replayed, list):
        if len(logged) != len(replayed):
            return f"{path}: logged {len(logged)} items, now {len(replayed)}"
        for i, (a, b) in enumerate(zip(logged, replayed, strict=True)):
            diff = first_difference(a, b, f"{path}[{i}]")
            if diff:
                return diff
        return None
    return None if logged == replayed else f"{path}: logged {logged!r}, now {replayed!r}"


def _replay_call(
    index: int, call: dict[str, Any], run_tool: RunTool, versions: dict[str, Any]
) -> CallReplay:
    """Re-run one logged call and compare it with its logged output."""
    tool, args = call["tool"], dict(call.get("args") or {})
    logged, logged_error = call.get("result"), call.get("error")
    try:
        replayed = to_jsonable(run_tool(tool, dict(args), dict(versions)), "replayed")
    except Exception as exc:  # noqa: BLE001 - a failing tool is a finding, not a crash
        message = str(exc).split("\n")[0]
        same = logged_error is not None and logged_error.split("\n")[0] == message
        difference = None if same else f"the call failed now: {message}"
        return CallReplay(index, tool, args, same, difference, logged, error=message)
    # A tool that reports its error in its result (not by raising) is compared like any other
    # output: the same error again is a reproduction.
    difference = first_difference(logged, replayed)
    return CallReplay(index, tool, args, difference is None, difference, logged, replayed)


def replay_record(stored: StoredRecord, run_tool: RunTool) -> ReplayReport:
    """Re-run each tool call of ``stored`` through ``run_tool`` and compare per call.

    Answers, corrections, digests and predictions carry tool calls (a prediction's is its model
    call). A call that raises is reported (not propagated): it matches only when the logged call
    failed with the same message.
    """
    record = stored.record
    if record.get("kind") not in ANSWER_LIKE_KINDS:
        raise InputError(
            f"record {stored.id} is a {record.get('kind')}: it has no tool calls",
            hint=f"replay a record of kind {', '.join(ANSWER_LIKE_KINDS)}",
        )
    versions = dict(record.get("versions") or {})
    report = ReplayReport(record_id=stored.id, versions=versions)
    for index, call in enumerate(record.get("tool_calls") or []):
        report.calls.append(_replay_call(index, call, run_tool, versions))
    return report
