"""Running tools for the agent: one ToolContext per question, every call timed and logged.

``run_logged_tool(rt, name, args, versions)`` is what ``sightline trail replay`` calls: it re-runs
a logged call with the logged arguments against the logged model versions.
"""

from __future__ import annotations

import time
from typing import Any

from app.agent.evidence import Evidence, LoggedCall, now_utc
from app.trail.record import to_jsonable
from tools.agent_tools import call_tool
from tools.context import ToolContext


def documents_of(rt: Any) -> Any | None:
    """The runtime's document index, or None when this build or data dir has none."""
    from ingestion.errors import SightlineError

    try:
        return rt.documents
    except (AttributeError, SightlineError):
        # No index (or a broken one): questions that need documents say so; others still work.
        return None


def context_for(rt: Any, user: Any) -> ToolContext:
    """The ToolContext of one question asked by ``user`` (groups from the user store)."""
    settings = rt.settings
    if not rt.warehouse.exists():
        with rt.warehouse.writer():
            pass
    return ToolContext(
        warehouse_path=rt.warehouse.path,
        user=user.name,
        groups=tuple(user.groups),
        documents=documents_of(rt),
        registry=getattr(rt, "registry", None),
        sql_timeout_s=settings.sql_timeout_s,
        sql_row_cap=settings.sql_row_cap,
        restricted=restricted_policy(rt),
    )


def restricted_policy(rt: Any) -> dict[str, tuple[str, ...]]:
    """The data dir's restricted list, ticker -> groups that may see it (SECURITY.md 9)."""
    from tools.restricted import RestrictedList

    return RestrictedList(rt.settings.home).policy()


def execute(ctx: ToolContext, evidence: Evidence, name: str, args: dict[str, Any]) -> Any:
    """Run one tool call, log it in ``evidence`` and return its (JSON-plain) result."""
    started = now_utc()
    t0 = time.perf_counter()
    logged_args = dict(args)
    if name == "search_documents":
        # Entitlements are server-side; logged so that replay searches as the same user.
        logged_args["groups"] = list(ctx.groups)
    result = to_jsonable(call_tool(ctx, name, args))
    ms = (time.perf_counter() - t0) * 1000
    error = result.get("error") if isinstance(result, dict) else None
    if isinstance(result, dict) and result.get("barrier"):
        # A refusal depends on who asked: logged so that replay applies the restricted list.
        logged_args["groups"] = list(ctx.groups)
    evidence.record(LoggedCall(name, to_jsonable(logged_args), result, started, ms, error))
    if isinstance(result, dict) and result.get("barrier"):
        evidence.barrier_events.append(
            {"tool": name, "call": len(evidence.calls) - 1, "at": started, "refused": error}
        )
    return result


def run_logged_tool(rt: Any, name: str, args: dict[str, Any], versions: dict[str, Any]) -> Any:
    """Re-run a logged tool call exactly as logged (for ``sightline trail replay``).

    Model tools are served the logged model version (not today's approved one); a search runs
    with the logged access groups.
    """
    args = dict(args)
    barrier_call = name != "search_documents" and "groups" in args  # a logged refusal
    groups = tuple(args.pop("groups", ()) or ("public",))

    ctx = ToolContext(
        warehouse_path=rt.warehouse.path,
        user="replay",
        groups=groups,
        documents=documents_of(rt) if name == "search_documents" else None,
        registry=getattr(rt, "registry", None),
        sql_timeout_s=rt.settings.sql_timeout_s,
        sql_row_cap=rt.settings.sql_row_cap,
        restricted=restricted_policy(rt) if barrier_call else {},
    )
    try:
        if name in ("risk_metrics", "default_probability") and not barrier_call:
            return to_jsonable(_replay_model(ctx, name, args, versions))
        return to_jsonable(call_tool(ctx, name, args))
    finally:
        ctx.close()


def _replay_model(
    ctx: ToolContext, name: str, args: dict[str, Any], versions: dict[str, Any]
) -> Any:
    key = "risk_model" if name == "risk_metrics" else "pd_model"
    ref = str(versions.get(key) or "")
    version = ref.split("@", 1)[1] if "@" in ref else None
    from ingestion.errors import SightlineError
    from tools.credit import default_probability
    from tools.risk import risk_metrics

    run: Any = risk_metrics if name == "risk_metrics" else default_probability
    try:
        return run(ctx.connection(), ctx.registry, args, replay_version=version)
    except SightlineError as exc:
        return {"error": exc.message, "hint": exc.hint or ""}
