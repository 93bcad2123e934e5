"""Answer-trail page (compliance): find, read, verify, review, replay and export answer records.

Every action checks the role here (``app.ui.guard.require``) and again in ``app.trail`` (reading
other users' records, reviewing). Reviews are new records pointing at the answer; nothing is
edited.
"""

from __future__ import annotations

import functools
import io
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app.runtime import Runtime
from app.ui.answer_view import render_answer
from app.ui.guard import require
from app.users import User

EVERYONE = "(everyone)"
ANY = "(any)"
MAX_ROWS = 500


def render(rt: Runtime, user: User) -> None:
    """Render the answer-trail page for ``user`` (compliance only)."""
    require(user, "trail.view")
    st.header("Answer trail")
    _chain_status(rt, user)
    records = _find(rt, user)
    if not records:
        st.info("No records match these filters.")
        return
    chosen = st.selectbox(
        "Open record",
        [r.id for r in records],
        format_func=lambda rid: _label(next(r for r in records if r.id == rid)),
        key="trail_record",
    )
    if chosen:
        _record(rt, user, chosen)
    st.divider()
    _export(rt, user)


def _label(stored: Any) -> str:
    r = stored.record
    text = " ".join(str(r.get("question") or r.get("note") or "").split())
    text = text if len(text) <= 70 else text[:67] + "…"
    return (
        f"#{stored.seq} · {str(r.get('time', ''))[:16].replace('T', ' ')} · {r.get('user')} · "
        f"{r.get('kind')} · {r.get('status')} · {text}"
    )


def _chain_status(rt: Runtime, user: User) -> None:
    cols = st.columns([1, 3])
    if cols[0].button("Verify the chain", icon=":material/verified:", key="trail_verify"):
        require(user, "trail.verify")
        from app.trail.access import require_chain_role

        require_chain_role(user, "verify the answer trail")
        st.session_state["trail_verified"] = rt.trail.verify().to_json()
    result = st.session_state.get("trail_verified")
    with cols[1]:
        if result is None:
            st.caption("Chain not verified in this session yet.")
        elif result["ok"]:
            head = result["head"]
            st.success(
                f"Chain intact: {result['checked']:,} records checked; head "
                f"#{head.get('seq')} `{str(head.get('hash', ''))[:16]}…`",
                icon=":material/verified:",
            )
        else:
            brk = result.get("first_break") or {}
            st.error(
                f"Chain broken at position {brk.get('seq', '?')} (record "
                f"{brk.get('id') or '?'}): {brk.get('reason', '')} "
                + "; ".join(result.get("problems") or []),
                icon=":material/gpp_bad:",
            )


def _find(rt: Runtime, user: User) -> list[Any]:
    from app.trail.access import check_read, reads_everyone
    from app.trail.record import ANSWER_STATUSES, KINDS, REVIEW_STATUSES
    from app.trail.store import TrailQuery

    with st.expander("Find records", expanded=True, icon=":material/search:"):
        c1, c2, c3, c4 = st.columns(4)
        users = [EVERYONE, *(u.name for u in rt.users.list())]
        asked_by = c1.selectbox("Asked by", users, key="trail_user")
        kind = c2.selectbox("Kind", [ANY, *KINDS], index=1, key="trail_kind")
        statuses = sorted({*ANSWER_STATUSES, *REVIEW_STATUSES, "recorded"})
        status = c3.selectbox("Status", [ANY, *statuses], key="trail_status")
        model = c4.text_input("Model or version contains", key="trail_model")
        c5, c6, c7 = st.columns([1, 1, 2])
        start = c5.date_input("From", value=None, key="trail_from")
        end = c6.date_input("To", value=None, key="trail_to")
        text = c7.text_input("Question or answer contains", key="trail_text")
    who = None if asked_by == EVERYONE else asked_by
    if who is not None:
        check_read(user, who)
    elif not reads_everyone(user):  # the backend's rule, applied again
        who = user.name
    records = rt.trail.read(
        TrailQuery(
            user=who,
            kind=None if kind == ANY else kind,
            status=None if status == ANY else status,
            start=start if isinstance(start, date) else None,
            end=end if isinstance(end, date) else None,
            model=model.strip() or None,
            limit=MAX_ROWS,
            newest_first=True,
        )
    )
    needle = text.strip().lower()
    if needle:
        records = [
            r
            for r in records
            if needle in str(r.record.get("question", "")).lower()
            or needle in str(r.record.get("answer", "")).lower()
        ]
    st.caption(f"{len(records)} record(s), newest first (at most {MAX_ROWS}).")
    return records


def _record(rt: Runtime, user: User, record_id: str) -> None:
    from app.trail.access import check_read
    from app.trail.review import follow_ups

    stored = rt.trail.get(record_id)
    check_read(user, str(stored.record.get("user")))
    r = stored.record
    st.subheader(f"Record #{stored.seq}")
    st.caption(
        f"id `{stored.id}` · {r.get('kind')} · asked {r.get('time')} by {r.get('user')} "
        f"({r.get('role')}) · appended {stored.appended_at}"
    )
    if r.get("question"):
        st.markdown("**Question**")
        st.text(r["question"])
    if r.get("kind") in ("answer", "correction"):
        st.markdown("**Answer as shown**")
        render_answer(r, key=f"trail-{stored.id}")
    elif r.get("note"):
        st.text(r["note"])
    for query in r.get("sql") or []:
        st.code(str(query.get("query", "")), language="sql")
        st.caption(f"{query.get('rows', '?')} row(s)")
    for warning in r.get("warnings") or []:
        st.warning(warning)
    st.caption(f"hash `{stored.hash}` · previous `{stored.prev_hash}`")
    reviews = follow_ups(rt.trail, stored.id)
    st.markdown("**Reviews and corrections**")
    if reviews:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "time": f.record.get("time"),
                        "kind": f.record.get("kind"),
                        "status": f.record.get("status"),
                        "by": f.record.get("user"),
                        "note": f.record.get("note"),
                        "record": f.id,
                    }
                    for f in reviews
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("None yet.")
    _actions(rt, user, stored, reviews)


def _actions(rt: Runtime, user: User, stored: Any, reviews: list[Any]) -> None:
    from app.trail.evidence import render_evidence
    from app.trail.record import REVIEW_STATUSES
    from app.trail.review import review_answer

    if stored.record.get("kind") in ("answer", "correction"):
        with st.form(f"review-{stored.id}", clear_on_submit=True):
            st.markdown("**Review this answer**")
            verdict = st.radio("Verdict", REVIEW_STATUSES, horizontal=True, key="review_status")
            note = st.text_area("Note", key="review_note", placeholder="What was checked, or why")
            if st.form_submit_button("Record review", type="primary"):
                require(user, "trail.review")
                saved = review_answer(
                    rt.trail, stored.id, reviewer=user, status=str(verdict), note=note
                )
                st.session_state["trail_notice"] = (
                    f"Review recorded as record #{saved.seq} ({verdict})."
                )
                st.rerun()
    notice = st.session_state.pop("trail_notice", None)
    if notice:
        st.success(notice, icon=":material/check:")
    c1, c2 = st.columns(2)
    c1.download_button(
        "Evidence pack (HTML)",
        render_evidence(stored, reviews).encode("utf-8"),
        file_name=f"evidence-{stored.id}.html",
        mime="text/html",
        icon=":material/download:",
        key="trail_evidence",
    )
    if stored.record.get("tool_calls"):
        if c2.button("Replay the tool calls", icon=":material/replay:", key="trail_replay"):
            require(user, "trail.view")
            from app.agent.toolbox import run_logged_tool
            from app.trail.replay import replay_record

            report = replay_record(stored, functools.partial(run_logged_tool, rt))
            for call in report.calls:
                verdict = "match" if call.match else "MISMATCH"
                st.markdown(f"{call.index + 1}. `{call.tool}`: **{verdict}**")
                if call.difference:
                    st.text(call.difference)
            matched = sum(c.match for c in report.calls)
            (st.success if report.ok else st.error)(
                f"{matched} of {len(report.calls)} tool call(s) reproduced their logged output."
            )


def _export(rt: Runtime, user: User) -> None:
    from app.trail.export import export_trail

    st.markdown("**Export**")
    c1, c2, c3 = st.columns([1, 1, 2])
    start = c1.date_input("Export from", value=None, key="export_from")
    end = c2.date_input("Export to", value=None, key="export_to")
    if c3.button("Prepare export (JSONL, evidence packs, manifest)", key="trail_export"):
        require(user, "trail.export")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "export"
            report = export_trail(
                rt.trail,
                out,
                viewer=user,
                start=start if isinstance(start, date) else None,
                end=end if isinstance(end, date) else None,
            )
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(out.rglob("*")):
                    if path.is_file():
                        archive.write(path, path.relative_to(out))
        st.session_state["trail_export_zip"] = buffer.getvalue()
        st.session_state["trail_export_summary"] = (
            f"{report.records} record(s), {report.evidence_packs} evidence pack(s)"
        )
    if "trail_export_zip" in st.session_state:
        st.download_button(
            f"Download export ({st.session_state['trail_export_summary']})",
            st.session_state["trail_export_zip"],
            file_name="sightline-trail-export.zip",
            mime="application/zip",
            icon=":material/download:",
            key="trail_export_download",
        )
