"""Builders shared by the model tests and the model-governance security tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.runtime import Runtime
from app.settings import Settings

MODEL_FEATURES = ["log_return_1d", "realized_vol_60d"]


def ensure_features(rt: Runtime) -> None:
    """Materialize the features the models read, unless the demo already did."""
    from features.batch import materialize
    from ingestion.errors import StoreError

    try:
        with rt.warehouse.reader() as con:
            from features.store import get_features

            present = get_features(con, ["^GSPC"], MODEL_FEATURES, None)
    except StoreError:
        present = []
    if len(present) < len(MODEL_FEATURES):
        materialize(rt.warehouse, MODEL_FEATURES)


def build_models_home(demo_home: Path, target: Path) -> Path:
    """A copy of the demo data dir with features and one approved version of each model."""
    from app.demo import ensure_demo_models

    shutil.copytree(demo_home, target)
    rt = Runtime(Settings(home=target))
    ensure_features(rt)
    ensure_demo_models(rt, lambda _msg: None)
    return target


def private_runtime(source: Path, target: Path) -> Runtime:
    """A Runtime over a private copy of ``source`` (safe to change)."""
    shutil.copytree(source, target)
    return Runtime(Settings(home=target))
