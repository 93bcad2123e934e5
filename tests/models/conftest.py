"""Model fixtures: the demo data with features and approved models, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.models.support import build_models_home, private_runtime


@pytest.fixture(scope="session")
def models_home(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo data + features + approved risk and pd models. Treat as read-only."""
    return build_models_home(demo_home, tmp_path_factory.mktemp("models") / "home")


@pytest.fixture
def models_rt(models_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """A Runtime over a private copy of ``models_home`` (SIGHTLINE_HOME points at it)."""
    home = tmp_path / "models-copy"
    monkeypatch.setenv("SIGHTLINE_HOME", str(home))
    return private_runtime(models_home, home)
