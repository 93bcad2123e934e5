"""Models page: registry, history, validation charts and the maker-checker lifecycle.

Model owners train and register; validators validate and approve (draft -> validated ->
approved -> retired); compliance and admins read.

The page checks each action's role (``app.ui.access``), and ``tools.registry`` checks again,
including that nobody validates or approves a version they registered themselves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pandas as pd
import streamlit as st

from app.runtime import Runtime
from app.ui.access import allowed
from app.ui.charts import build_chart, parse_spec
from app.ui.guard import require
from app.ui.sanitize import escape_markdown
from app.users import User
from ingestion.errors import SightlineError

MODEL_NAMES = ("risk", "pd")


def render(rt: Runtime, user: User) -> None:
    """Render the model registry for ``user``."""
    require(user, "models.view")
    st.header("Models")
    notice = st.session_state.pop("models_notice", None)
    if notice:
        st.success(notice, icon=":material/check:")
    versions = rt.registry.list()  # type: ignore[attr-defined]
    _train(rt, user)
    if not versions:
        st.info("No model is registered yet: a model owner trains one (`sightline models train`).")
        return
    st.dataframe(
        pd.DataFrame([mv.summary() | {"validated_by": mv.validated_by} for mv in versions]),
        hide_index=True,
        width="stretch",
    )
    refs = [mv.ref for mv in versions]
    ref = st.selectbox("Model version", refs, key="model_ref")
    mv = next(v for v in versions if v.ref == ref)
    _details(rt, mv)
    _lifecycle(rt, user, mv)
    _in_production(rt)


def _train(rt: Runtime, user: User) -> None:
    if not allowed(user, "models.train"):
        return
    with st.expander("Train and register a new version", icon=":material/model_training:"):
        name = st.selectbox("Model", MODEL_NAMES, key="train_model")
        if st.button("Train and register as draft", key="train_button"):
            require(user, "models.train")
            from tools.lifecycle import train

            with st.spinner(f"Training {name} on the warehouse…"):
                with rt.warehouse.reader() as con:
                    trained = train(str(name), con)
                mv, created = rt.registry.register(  # type: ignore[attr-defined]
                    trained, user=user.name, role=user.role
                )
            state = "registered as draft" if created else f"already registered ({mv.status})"
            st.session_state["models_notice"] = f"{mv.ref} {state}."
            st.rerun()


def _details(rt: Runtime, mv: Any) -> None:
    st.subheader(mv.ref)
    st.caption(
        f"status **{mv.status}** · registered by {mv.registered_by} at {mv.registered_at} · "
        f"training data sha256 `{mv.training_data_sha256[:16]}…` · code `{mv.code_version}`"
    )
    tabs = st.tabs(["Validation", "History", "Parameters and domain"])
    with tabs[0]:
        _validation(rt, mv)
    with tabs[1]:
        st.dataframe(
            pd.DataFrame([t.as_dict() for t in mv.transitions]), hide_index=True, width="stretch"
        )
    with tabs[2]:
        st.json(mv.params, expanded=False)
        st.json(mv.domain, expanded=False)


def _validation(rt: Runtime, mv: Any) -> None:
    report = rt.registry.validation_report(mv)  # type: ignore[attr-defined]
    if report:
        checks = pd.DataFrame(report.get("checks", []))
        st.markdown("**Independent validation checks**")
        st.dataframe(checks, hide_index=True, width="stretch")
    else:
        st.caption("Not validated yet.")
    if mv.name == "pd":
        _pd_charts(rt, mv)
    elif mv.name == "risk":
        _risk_charts(mv.metrics)


def _metric_row(values: dict[str, float]) -> None:
    for col, (label, value) in zip(st.columns(len(values)), values.items(), strict=True):
        col.metric(label, f"{value:.3f}")


def _pd_charts(rt: Runtime, mv: Any) -> None:
    test = mv.metrics.get("test") or {}
    if not test:
        return
    _metric_row({k.upper(): float(test[k]) for k in ("auc", "gini", "ks", "brier") if k in test})
    left, right = st.columns(2)
    with left:
        _calibration_chart(test)
    with right:
        _roc_chart(rt, mv)


def _calibration_chart(test: dict[str, Any]) -> None:
    table = test.get("calibration_table") or []
    if table:
        rows = [
            {"bin": r["bin"], "series": series, "rate": r[field]}
            for r in table
            for series, field in (
                ("mean predicted PD", "mean_pd"),
                ("observed default rate", "observed_default_rate"),
            )
        ]
        spec = {
            "kind": "line",
            "title": "Calibration on held-out loans (PD deciles)",
            "x": {"field": "bin", "type": "ordinal", "title": "PD decile"},
            "y": {"field": "rate", "title": "default rate", "format": ".0%"},
            "series": {"field": "series", "title": ""},
            "data": rows,
        }
        st.altair_chart(build_chart(parse_spec(spec)), width="stretch", key="pd-calibration")


def _roc_chart(rt: Runtime, mv: Any) -> None:
    """ROC of ``mv`` on its test split (recomputed from the artefact), with the chance diagonal."""
    import altair as alt

    from tools.lifecycle import pd_roc_points

    try:
        with rt.warehouse.reader() as con:
            roc = pd_roc_points(con, rt.registry, mv)  # type: ignore[attr-defined]
    except SightlineError as exc:
        st.warning(f"No ROC curve: {escape_markdown(str(exc))}")
        return
    # Built here from the numbers alone: a fixed layered chart, nothing from the model or a spec.
    curve = pd.DataFrame(roc["points"]).reset_index(names="step")
    curve["series"] = "PD scorecard"
    chance = pd.DataFrame({"fpr": [0.0, 1.0], "tpr": [0.0, 1.0], "series": "chance (AUC 0.5)"})
    x = alt.X(field="fpr", type="quantitative", title="false-positive rate",
              scale=alt.Scale(domain=[0, 1]))  # fmt: skip
    y = alt.Y(field="tpr", type="quantitative", title="true-positive rate",
              scale=alt.Scale(domain=[0, 1]))  # fmt: skip
    color = alt.Color(field="series", type="nominal", title="")
    line = (
        alt.Chart(curve)
        .mark_line()
        .encode(
            x=x,
            y=y,
            color=color,
            order=alt.Order(field="step", type="quantitative"),
            tooltip=[
                alt.Tooltip(
                    field="threshold", type="quantitative", title="PD cut-off", format=".3f"
                ),
                alt.Tooltip(field="fpr", type="quantitative", format=".3f"),
                alt.Tooltip(field="tpr", type="quantitative", format=".3f"),
            ],
        )
    )
    diagonal = alt.Chart(chance).mark_line(strokeDash=[4, 4]).encode(x=x, y=y, color=color)
    title = (
        f"ROC on held-out loans: AUC {roc['auc']:.3f} "
        f"({roc['loans']} loans, {roc['defaults']} defaults)"
    )
    chart = alt.layer(line, diagonal).properties(title=title)
    st.altair_chart(chart, width="stretch", key="pd-roc")


def _risk_charts(metrics: dict[str, Any]) -> None:
    backtest = metrics.get("backtest") or {}
    results = backtest.get("results") or []
    if not results:
        return
    st.caption(
        f"One-day VaR backtest on {backtest.get('series')} from {backtest.get('start')} to "
        f"{backtest.get('end')} ({backtest.get('observations'):,} days)."
    )
    rows = []
    for r in results:
        level = f"{r['confidence']:.1%}".replace(".0%", "%")
        rows.append({"method": r["method"], "level": level, "count": r["exceptions"],
                     "what": f"exceptions at {level}"})  # fmt: skip
        rows.append({"method": r["method"], "level": level, "count": round(r["expected"], 1),
                     "what": f"expected at {level}"})  # fmt: skip
    spec = {
        "kind": "bar",
        "title": "VaR exceptions against the number expected",
        "x": {"field": "method", "type": "nominal", "title": ""},
        "y": {"field": "count", "title": "days"},
        "series": {"field": "what", "title": ""},
        "data": rows,
    }
    st.altair_chart(build_chart(parse_spec(spec)), width="stretch", key="risk-backtest")
    table = pd.DataFrame(results)
    keep = ["method", "confidence", "exceptions", "expected", "kupiec_p", "christoffersen_p",
            "basel_zone_last_250"]  # fmt: skip
    st.dataframe(table[[c for c in keep if c in table]], hide_index=True, width="stretch")


def _lifecycle(rt: Runtime, user: User, mv: Any) -> None:
    actions = [a for a in ("validate", "approve", "retire") if allowed(user, f"models.{a}")]
    if not actions:
        return
    st.markdown("**Lifecycle**")
    st.caption("draft → validated → approved → retired; a validator never checks their own model.")
    cols = st.columns(3)
    if "validate" in actions and cols[0].button("Validate", key="model_validate"):
        require(user, "models.validate")
        from tools.lifecycle import validation_report

        rt.registry.require_checker(mv, user.name, user.role, "validate")  # type: ignore[attr-defined]
        with st.spinner(f"Retraining and re-measuring {mv.ref}…"):
            with rt.warehouse.reader() as con:
                report = validation_report(con, rt.registry, mv)  # type: ignore[attr-defined]
            rt.registry.validate(mv.ref, user=user.name, role=user.role, report=report)  # type: ignore[attr-defined]
        st.session_state["models_notice"] = f"{mv.ref} validated by {user.name}."
        st.rerun()
    if "approve" in actions and cols[1].button("Approve for use", key="model_approve"):
        require(user, "models.approve")
        rt.registry.approve(mv.ref, user=user.name, role=user.role)  # type: ignore[attr-defined]
        st.session_state["models_notice"] = f"{mv.ref} approved by {user.name}; it is now served."
        st.rerun()
    if "retire" in actions:
        note = cols[2].text_input("Retirement note", key="retire_note")
        if cols[2].button("Retire", key="model_retire"):
            require(user, "models.retire")
            rt.registry.retire(mv.ref, user=user.name, role=user.role, note=note)  # type: ignore[attr-defined]
            st.session_state["models_notice"] = f"{mv.ref} retired by {user.name}."
            st.rerun()


def _in_production(rt: Runtime) -> None:
    st.markdown("**Which version was in production?**")
    c1, c2 = st.columns(2)
    name = c1.selectbox("Model", MODEL_NAMES, key="prod_model")
    on = c2.date_input("On", value=date.today(), key="prod_date")
    if isinstance(on, date):
        moment = datetime.combine(on, time.max, tzinfo=UTC)
        mv = rt.registry.in_production(str(name), moment)  # type: ignore[attr-defined]
        st.caption(
            f"{name} on {on}: **{mv.ref}** (approved by {mv.approved_by})"
            if mv
            else f"{name} on {on}: no approved version"
        )
