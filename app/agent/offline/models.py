"""The model registry (versions, validation) and "why" follow-ups on the previous answer."""

from __future__ import annotations

from typing import Any

from app.agent.compose import fmt, label
from app.agent.entities import Entities
from app.agent.evidence import Evidence
from app.agent.intents import Intent
from app.agent.offline.base import Declined, call
from tools.context import ToolContext


def model_info(q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, *_: Any):  # noqa: ANN202
    """Model versions in use, their approval and validation references."""
    result = call(ctx, ev, "describe_data", {"topic": "models"})
    models = result["models"]
    low = q.lower()
    wanted = [n for n in ("risk", "pd") if n in low or (n == "pd" and "credit" in low)]
    rows = [m for m in models if not wanted or m["name"] in wanted]
    approved = [m for m in rows if m["status"] == "approved"]
    if not rows:
        raise Declined("No model is registered yet.")
    lines = []
    for m in approved:
        lines.append(
            f"{m['name']}@{m['version']} is in use: approved by {m['approved_by']} at "
            f"{m['approved_at']}, registered by {m['registered_by']}; validation "
            f"{m.get('validation') or 'not recorded'}."
        )
    others = [m for m in rows if m["status"] != "approved"]
    if others:
        lines.append(
            "Other versions: "
            + "; ".join(f"{m['name']}@{m['version']} {m['status']}" for m in others)
            + "."
        )
    if not approved:
        lines.insert(0, "No version is approved, so none is served.")
    return " ".join(lines), None


def followup(
    q: str, e: Entities, intent: Intent, ctx: ToolContext, ev: Evidence, history: list, *_: Any
):  # noqa: ANN202, E501
    """The previous answer's tool calls re-run and explained ("why?")."""
    previous = history[-1]
    calls = [c for c in previous.get("tool_calls", []) if c.get("tool")]
    if not calls:
        raise Declined(
            "The previous answer used no tool, so there is nothing further behind it to explain."
        )
    lines = [f'The previous answer ("{previous.get("question", "")}") rests on:']
    for c in calls[:4]:
        args = {k: v for k, v in (c.get("args") or {}).items() if k != "groups"}
        r = call(ctx, ev, c["tool"], args)
        lines.append(_explain(c["tool"], r))
    return "\n".join(lines), None


def _explain(tool: str, r: dict[str, Any]) -> str:
    if tool == "default_probability":
        drivers = "; ".join(
            f"{d.get('input') or d.get('field')} = "
            + (fmt(d["value"]) if isinstance(d.get("value"), int | float) else str(d.get("value")))
            for d in r.get("explanation", [])[:5]
        )
        return f"- {r.get('method')} ({r['model']}); drivers: {drivers}. {r['horizon_scaling']}"
    if tool == "risk_metrics":
        w = r["window"]
        return (
            f"- {r['model']}: historical simulation over {w['days']:,} daily returns from "
            f"{w['start']} to {w['end']} at {r['confidence'] * 100:g}% confidence; "
            f"{r['horizon_scaling']}"
        )
    if tool in ("get_features", "get_feature_history"):
        values = r.get("values") or []
        feats = sorted(
            {v["feature"] for v in values} | ({r["feature"]} if "feature" in r else set())
        )
        return (
            "- feature store values (point in time, never computed from later data): "
            + "; ".join(f"{f}: {label(f)}" for f in feats)
        )
    if tool == "query_features":
        return f"- a read-only SQL query over the warehouse: {r['sql']}"
    if tool == "search_documents":
        return "- passages from: " + "; ".join(
            f"{p['doc_name']} p. {p['page_start']}" for p in r.get("passages", [])[:5]
        )
    return f"- {tool}"
