"""Models page."""

from __future__ import annotations

import streamlit as st

from app.runtime import Runtime
from app.ui.backends import available, not_available
from app.ui.guard import require
from app.users import User


def render(rt: Runtime, user: User) -> None:
    """Render the page for ``user`` (refused unless their role may open it)."""
    require(user, "models.view")
    st.header("Models")
    if not available(rt, "registry"):
        not_available("registry")
        return
