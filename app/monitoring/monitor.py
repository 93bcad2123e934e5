"""``sightline monitor``: model-input drift, prediction drift, data freshness, latency and alerts.

Drift statistics come from ``tools.drift``; latency percentiles from the answer trail (each
answer's latency and each tool call's ms); freshness from the warehouse's table overview. A
statistic past its threshold (PSI 0.1 watch, 0.25 act; KS; all settings) is an alert, recorded as
an ``event`` in the answer trail and shown on the Monitoring page.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from app.runtime import Runtime
from app.settings import Settings
from ingestion.tables import table_overview
from tools import batch_store, drift

_INTERNAL = ("batch_", "monitor_", "loads", "feature_runs")  # bookkeeping, not data


def _status(stats: dict[str, Any], s: Settings) -> str:
    value = stats["psi"]
    if value >= s.monitor_psi_act or (stats.get("ks") or 0.0) >= s.monitor_ks_act:
        return "act"
    return "watch" if value >= s.monitor_psi_watch else "ok"


def percentiles(values: list[float]) -> dict[str, Any]:
    """Count and p50/p95/p99 of ``values`` (milliseconds)."""
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None}
    p50, p95, p99 = np.percentile(np.asarray(values, dtype=np.float64), [50, 95, 99])
    return {"count": len(values), "p50": float(p50), "p95": float(p95), "p99": float(p99)}


def latency(rt: Runtime) -> dict[str, Any]:
    """Answer and tool latency from the trail: overall, per tool, per day (UTC)."""
    answers: list[float] = []
    by_day: dict[str, list[float]] = defaultdict(list)
    by_tool: dict[str, list[float]] = defaultdict(list)
    by_tool_day: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for stored in rt.trail.read():
        record = stored.record
        if record.get("kind") != "answer":
            continue
        day = str(record.get("time", ""))[:10]
        answers.append(float(record.get("latency_ms") or 0.0))
        by_day[day].append(float(record.get("latency_ms") or 0.0))
        for call in record.get("tool_calls") or []:
            by_tool[call["tool"]].append(float(call.get("ms") or 0.0))
            by_tool_day[call["tool"]][day].append(float(call.get("ms") or 0.0))
    return {
        "answers": percentiles(answers),
        "by_day": {d: percentiles(v) for d, v in sorted(by_day.items())},
        "by_tool": {t: percentiles(v) for t, v in sorted(by_tool.items())},
        "by_tool_day": {
            t: {d: percentiles(v) for d, v in sorted(days.items())}
            for t, days in sorted(by_tool_day.items())
        },
        "unit": "ms",
    }


def freshness(rt: Runtime, as_of: date | None) -> list[dict[str, Any]]:
    """Each warehouse table's rows and last date, and its age in days at ``as_of`` (or today)."""
    ref = as_of or datetime.now(UTC).date()
    with rt.warehouse.reader() as con:
        tables = table_overview(con)
    out = []
    for t in tables:
        name, last = str(t["name"]), t.get("date_max")
        if name.startswith(_INTERNAL):
            continue
        age = (ref - date.fromisoformat(str(last)[:10])).days if last else None
        out.append({"table": name, "rows": t["rows"], "last": last, "age_days": age})
    return out


def _prediction_drift(rt: Runtime, baseline: dict[str, Any]) -> dict[str, Any]:
    """PD scores of the latest published run vs the development scores; VaR level per run."""
    with rt.warehouse.reader() as con:
        current = batch_store.current_runs(con)
        if not current:
            return {"pd_scores": None, "var_99_usd": []}
        as_of, run = current[-1]
        scores = [r["pd"] for r in batch_store.result_rows(con, "batch_pd", run)]
        levels = []
        for day, run_id in current[-30:]:
            for r in batch_store.result_rows(con, "batch_risk", run_id):
                if r["metric"] == "var_historical_usd" and r["confidence"] == 0.99:
                    levels.append({"as_of": day.isoformat(), "run_id": run_id,
                                   "portfolio": r["portfolio"], "value": r["value"]})  # fmt: skip
    stats = drift.compare_numeric(baseline["scores"], scores) if scores else None
    part = {"run_id": run, "as_of": as_of.isoformat(), **stats} if stats else None
    return {"pd_scores": part, "var_99_usd": levels}


def _market_as_of(rt: Runtime, as_of: date | None) -> date | None:
    if as_of is not None:
        return as_of
    with rt.warehouse.reader() as con:
        current = batch_store.current_runs(con)
    return current[-1][0] if current else None


def monitor(
    rt: Runtime, *, as_of: date | None = None, days: int | None = None, user: str | None = None,
    record: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """Compute every monitor; record each alert as a trail event (unless ``record`` is False).

    ``as_of``/``days`` choose the recent market window (default: the latest published batch
    date and ``SIGHTLINE_MONITOR_RECENT_DAYS``).
    """
    s = rt.settings
    baseline = drift.pd_baseline(rt.warehouse, rt.registry)
    with rt.warehouse.reader() as con:
        inputs = drift.pd_input_drift(baseline, drift.loan_inputs(con))
        market_day = _market_as_of(rt, as_of)
        tickers = rt.registry.approved("risk").domain.get("training_tickers", [])
        if market_day is not None:
            inputs += drift.market_drift(
                con, rt.registry, tickers, market_day, days or s.monitor_recent_days
            )
    for row in inputs:
        row["status"] = _status(row, s)
    predictions = _prediction_drift(rt, baseline)
    if predictions["pd_scores"]:
        predictions["pd_scores"]["status"] = _status(predictions["pd_scores"], s)
    alerts = _alerts(inputs, predictions, s)
    result: dict[str, Any] = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "thresholds": {
            "psi_watch": s.monitor_psi_watch,
            "psi_act": s.monitor_psi_act,
            "ks_act": s.monitor_ks_act,
        },  # fmt: skip
        "market_window": {
            "as_of": market_day.isoformat() if market_day else None,
            "days": days or s.monitor_recent_days,
        },  # fmt: skip
        "inputs": inputs,
        "predictions": predictions,
        "freshness": freshness(rt, market_day),
        "latency": latency(rt),
        "alerts": alerts,
    }
    if record and alerts:
        _record(rt, user, alerts, result["market_window"])
    return result


def _alerts(
    inputs: list[dict[str, Any]], predictions: dict[str, Any], s: Settings
) -> list[dict[str, Any]]:
    found = [
        {"level": row["status"], "model": row["model"], "input": row["input"],
         "psi": row["psi"], "ks": row.get("ks"),
         "message": f"{row['input']} of {row['model']}: PSI {row['psi']:.3f}"
         + (f", KS {row['ks']:.3f}" if row.get("ks") is not None else "")
         + f" ({row['status']}; watch at {s.monitor_psi_watch}, act at {s.monitor_psi_act})"}
        for row in inputs if row["status"] != "ok"
    ]  # fmt: skip
    scores = predictions.get("pd_scores")
    if scores and scores["status"] != "ok":
        found.append(
            {"level": scores["status"], "model": "pd", "input": "pd_score", "psi": scores["psi"],
             "ks": scores["ks"], "message": f"PD scores of run {scores['run_id']}: PSI "
             f"{scores['psi']:.3f}, KS {scores['ks']:.3f} against the development scores"}
        )  # fmt: skip
    return found


def _record(rt: Runtime, user: str | None, alerts: list[dict[str, Any]], window: dict) -> None:
    from app.trail import AnswerRecord

    who = rt.user(user)
    for alert in alerts:
        rt.trail.append(
            AnswerRecord(
                kind="event", user=who.name, role=who.role, status="recorded",
                note=f"monitoring alert ({alert['level']}): {alert['message']}",
                details={"action": "monitor_alert", **alert, "market_window": window},
            )
        )  # fmt: skip


def recorded_alerts(rt: Runtime, limit: int = 50) -> list[dict[str, Any]]:
    """The latest monitoring alerts recorded in the trail, newest first."""
    out = []
    for stored in reversed(rt.trail.read()):
        details = stored.record.get("details") or {}
        if stored.record.get("kind") == "event" and details.get("action") == "monitor_alert":
            out.append({"time": stored.record["time"], "record": stored.id, **details})
            if len(out) >= limit:
                break
    return out
