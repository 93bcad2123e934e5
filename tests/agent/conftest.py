"""Agent test helpers: a demo runtime copy and the questions' expected evidence."""

from __future__ import annotations

import pytest

from app.runtime import Runtime
from app.settings import Settings


@pytest.fixture
def agent_rt(demo_runtime: Runtime) -> Runtime:
    """A private demo copy; skips when the demo has no approved models yet (issue 5)."""
    names = {mv.name for mv in demo_runtime.registry.list() if mv.status == "approved"}
    if not {"risk", "pd"} <= names:
        pytest.skip("the demo has no approved risk/pd model (issue 5 demo step)")
    return demo_runtime


def with_settings(rt: Runtime, **overrides: object) -> Runtime:
    """The same data dir with some settings changed."""
    return Runtime(Settings(home=rt.settings.home, **overrides))  # type: ignore[arg-type]
