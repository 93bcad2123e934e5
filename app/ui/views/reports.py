"""Reports page: batch runs (status, lineage) and each date's morning report and headline figures.

Generating a report records its sha256 in the answer trail, exactly as ``sightline report
morning`` does; the page only orchestrates ``app.reports.morning``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app.runtime import Runtime
from app.ui.access import allowed
from app.ui.guard import require
from app.users import User
from ingestion.errors import SightlineError


def render(rt: Runtime, user: User) -> None:
    """List batch runs and open (or generate) the morning report of a date."""
    require(user, "reports.view")
    from app.batch.runs import runs

    st.header("Reports")
    rows = runs(rt)
    if not rows:
        st.info("No batch run yet: `sightline batch run --as-of DATE` (docs/batch.md).")
        return
    frame = pd.DataFrame([r.to_dict() for r in rows])
    columns = ["run_id", "as_of", "status", "current", "started_at", "ended_at", "user",
               "identical_to", "failed_step", "error"]  # fmt: skip
    st.dataframe(frame[columns], hide_index=True, width="stretch")
    dates = sorted({r.as_of for r in rows if r.current}, reverse=True)
    if not dates:
        st.warning("No run has been published yet (every run so far failed or is running).")
        return
    as_of = st.selectbox("Morning report for", dates, format_func=date.isoformat, key="report_day")
    run = next(r for r in rows if r.current and r.as_of == as_of)
    folder = rt.settings.home / "reports"
    stem = f"morning-{as_of.isoformat()}-{run.run_id}"
    html, pdf = folder / f"{stem}.html", folder / f"{stem}.pdf"
    if allowed(user, "reports.generate") and st.button(
        "Generate the morning report" if not html.exists() else "Regenerate", key="report_make"
    ):
        require(user, "reports.generate")
        from app.reports.morning import write_morning_report

        try:
            with st.spinner("Rendering HTML and printing the PDF ..."):
                files = write_morning_report(rt, as_of, folder, user=user.name)
            st.success(f"Report of run {files.run_id} written; sha256 recorded in the trail.")
        except SightlineError as exc:
            st.error(str(exc))
    if html.exists():
        left, right = st.columns(2)
        left.download_button("Download HTML", html.read_bytes(), file_name=html.name,
                             mime="text/html", key="report_html")  # fmt: skip
        if pdf.exists():
            right.download_button("Download PDF", pdf.read_bytes(), file_name=pdf.name,
                                  mime="application/pdf", key="report_pdf")  # fmt: skip
    else:
        st.caption(f"No report file yet for run {run.run_id}.")
    # The headline figures, shown natively (the app renders no raw HTML: SECURITY.md row 11).
    from app.batch.runs import run_tables

    tables = run_tables(rt, run.run_id)
    st.subheader(f"Run {run.run_id}: risk (USD, 1-day historical)")
    if tables["risk"]:
        risk = pd.DataFrame(tables["risk"]).pivot_table(
            index="portfolio", columns=["metric", "confidence"], values="value"
        )
        risk.columns = [f"{m} {c:.0%}" for m, c in risk.columns]
        st.dataframe(risk, width="stretch")
    st.subheader("Limit usage")
    if tables["limits"]:
        st.dataframe(pd.DataFrame(tables["limits"]), hide_index=True, width="stretch")
    st.subheader("Reconciliation exceptions")
    if tables["exceptions"]:
        st.dataframe(pd.DataFrame(tables["exceptions"]), hide_index=True, width="stretch")
    else:
        st.caption("None.")
