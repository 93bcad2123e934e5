"""Monitoring page: drift per model input, prediction drift, freshness, latency and alerts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.runtime import Runtime
from app.ui.access import allowed
from app.ui.guard import require
from app.users import User
from ingestion.errors import SightlineError


def render(rt: Runtime, user: User) -> None:
    """Compute the monitors (recording alerts on request) and show the alerts in the trail."""
    require(user, "monitoring.view")
    from app.monitoring.monitor import monitor, recorded_alerts

    st.header("Monitoring")
    record = allowed(user, "monitoring.record") and st.button(
        "Run the checks and record alerts in the trail", key="monitor_record"
    )
    if record:
        require(user, "monitoring.record")
    try:
        with st.spinner("Computing drift, freshness and latency ..."):
            result = monitor(rt, user=user.name, record=bool(record))
    except SightlineError as exc:
        st.error(str(exc))
        return
    t = result["thresholds"]
    st.caption(
        f"PSI watch at {t['psi_watch']}, act at {t['psi_act']}; KS act at {t['ks_act']}. "
        f"Market window: {result['market_window']['days']} trading days to "
        f"{result['market_window']['as_of'] or '-'}."
    )
    for alert in result["alerts"]:
        (st.error if alert["level"] == "act" else st.warning)(alert["message"])
    if not result["alerts"]:
        st.success("No input or score past its threshold.")
    st.subheader("Drift per model input")
    columns = ["model", "input", "psi", "ks", "dev_n", "recent_n", "status"]
    st.dataframe(pd.DataFrame(result["inputs"])[columns], hide_index=True, width="stretch")
    scores = result["predictions"]["pd_scores"]
    if scores:
        st.metric("PD score PSI (latest run vs development)", f"{scores['psi']:.3f}",
                  help=f"run {scores['run_id']}, KS {scores['ks']:.3f}")  # fmt: skip
    levels = result["predictions"]["var_99_usd"]
    if levels:
        st.subheader("VaR 99% by run")
        st.dataframe(pd.DataFrame(levels), hide_index=True, width="stretch")
    st.subheader("Data freshness")
    st.dataframe(pd.DataFrame(result["freshness"]), hide_index=True, width="stretch")
    st.subheader("Latency (ms) from the answer trail")
    lat = result["latency"]
    tools = pd.DataFrame([{"tool": k, **v} for k, v in lat["by_tool"].items()])
    days = pd.DataFrame([{"day": k, **v} for k, v in lat["by_day"].items()])
    st.dataframe(pd.DataFrame([{"scope": "answers", **lat["answers"]}]), hide_index=True)
    if not tools.empty:
        st.dataframe(tools, hide_index=True, width="stretch")
    if not days.empty:
        st.dataframe(days, hide_index=True, width="stretch")
    st.subheader("Alerts recorded in the trail")
    alerts = recorded_alerts(rt)
    if alerts:
        st.dataframe(pd.DataFrame(alerts)[["time", "level", "model", "input", "psi", "message"]],
                     hide_index=True, width="stretch")  # fmt: skip
    else:
        st.caption("None yet.")
