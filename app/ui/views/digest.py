"""Digest page: what changed between an issuer's comparable filings, each item cited to its pages.

The page only orchestrates ``app.digest.run_digest`` (the same path as ``sightline digest``): the
digest reads only the documents the signed-in user's groups may see and is recorded in the answer
trail (kind ``digest``) before it is shown.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app.runtime import Runtime
from app.ui.guard import require
from app.users import User
from ingestion.errors import SightlineError

KIND_LABELS = {
    "new_risk_factor": "new risk factor",
    "removed_risk_factor": "removed risk factor",
    "figure_change": "figure change",
    "mdna_shift": "MD&A shift",
}


def _pages(citations: list[dict]) -> str:
    return "; ".join(f"{c['doc_name']} p.{c['page']} ({c['role']})" for c in citations)


def render(rt: Runtime, user: User) -> None:
    """Ask for an issuer (and optionally a start date), run the digest, list its cited items."""
    require(user, "digest.view")
    st.header("Digest")
    st.caption(
        "What changed from an issuer's previous comparable filing (10-K to 10-K, 10-Q to the same "
        "quarter): new and removed risk factors, the largest figure changes, shifted MD&A "
        "paragraphs. Only documents you may see are read; each digest is recorded in the trail."
    )
    with st.form("digest_form"):
        issuer = st.text_input("Issuer ticker", key="digest_issuer", placeholder="e.g. BBY")
        since = st.date_input(
            "Filings dated on or after (optional)", value=None, key="digest_since"
        )
        submitted = st.form_submit_button("Run digest")
    if not submitted:
        return
    require(user, "digest.run")
    from app.digest import run_digest

    try:
        with st.spinner("Reading the filings you may see..."):
            result = run_digest(
                rt,
                user,
                issuer=issuer.strip().upper() or None,
                since=since.isoformat() if isinstance(since, date) else None,
            )
    except SightlineError as exc:
        st.error(str(exc))
        if getattr(exc, "hint", None):
            st.caption(exc.hint)
        return
    items = result["items"]
    st.success(
        f"{len(items)} item(s) from {', '.join(result.get('filings', [])) or 'no filing'}; "
        f"recorded as {result['id']}."
    )
    for warning in result.get("warnings", []):
        st.warning(warning)
    if not items:
        st.info("No change found between the comparable filings you may see.")
        return
    frame = pd.DataFrame(
        {
            "kind": [KIND_LABELS.get(i["kind"], i["kind"]) for i in items],
            "item": [i["title"] for i in items],
            "detail": [i["detail"] for i in items],
            "cited pages": [_pages(i["citations"]) for i in items],
        }
    )
    # A dataframe renders every cell as inert text: filing text never becomes markup here.
    st.dataframe(frame, hide_index=True, width="stretch")
