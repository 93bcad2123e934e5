"""The server-side role check every page and every action runs first (SECURITY.md row 21)."""

from __future__ import annotations

import logging

import streamlit as st

from app.ui import access
from app.users import User

log = logging.getLogger("sightline.ui")


def require(user: User, action: str) -> None:
    """Stop the page with a plain refusal unless ``user`` may perform ``action``.

    Called at the top of every page (``<page>.view``) and again inside every button handler, so a
    page reached by a crafted URL or session state is refused exactly like a menu click would be.
    """
    if access.allowed(user, action):
        return
    page = access.page_info(action.split(".")[0])
    what = page.what if page else action
    roles = ", ".join(sorted(access.ACTIONS.get(action, ()))) or "no role"
    log.warning("refused %s (%s): %s", user.name, user.role, action)
    st.error(
        f"Access refused: {what} is open to {roles} only. "
        f"You are signed in as {user.name} ({user.role}).",
        icon=":material/block:",
    )
    st.stop()
