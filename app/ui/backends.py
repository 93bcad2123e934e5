"""Which backends the app can use in this checkout, and the notice a page shows when one is missing.

Pages never fake data: until the area behind a page exists (agent, documents, trail, registry,
features), the page says so plainly and names the issue that brings it.
"""

from __future__ import annotations

import importlib
import importlib.util

import streamlit as st

from app.runtime import Runtime

ISSUES = {
    "agent": (7, "the agent (`app.agent.answer`)"),
    "documents": (4, "research documents (`rt.documents`)"),
    "trail": (6, "the answer trail (`rt.trail`)"),
    "registry": (5, "the model registry (`tools.registry`)"),
    "features": (3, "the feature catalogue (`features`)"),
}


def _module_has(module: str, name: str) -> bool:
    try:
        if importlib.util.find_spec(module) is None:
            return False
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def available(rt: Runtime, backend: str) -> bool:
    """True when ``backend`` (a key of ``ISSUES``) is present in this installation."""
    if backend == "agent":
        return _module_has("app.agent", "answer")
    if backend in ("documents", "trail"):
        return hasattr(type(rt), backend)
    if backend == "registry":
        return _module_has("tools.registry", "ModelRegistry")
    if backend == "features":
        return _module_has("features.store", "list_features")
    raise KeyError(backend)


def not_available(backend: str) -> None:
    """Show the plain "not available yet" notice for ``backend``."""
    issue, what = ISSUES[backend]
    st.info(
        f"Not available yet: {what} is not part of this installation (issue #{issue}). "
        "This page shows real data only; nothing is displayed until it lands.",
        icon=":material/construction:",
    )
