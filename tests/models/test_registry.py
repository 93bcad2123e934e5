"""The model registry: versions, artefacts, the lifecycle and maker-checker, append-only history."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tools.errors import GovernanceError, LifecycleError, ModelNotFound, ToolInputError
from tools.registry import ModelRegistry, TrainedModel, parse_ref

OWNER = {"user": "olga", "role": "model_owner"}
VALIDATOR = {"user": "victor", "role": "validator"}
PASSED = {"checks": [{"name": "reproducible", "passed": True, "detail": ""}]}


def trained(alpha: float = 0.5, data: str = "a" * 64) -> TrainedModel:
    return TrainedModel(
        name="pd",
        params={"alpha": alpha},
        training_data_sha256=data,
        code_version="c0de",
        artefact={"coef": [alpha, 1.0 / 3.0]},
        metrics={"auc": 0.8},
        domain={"x": [0, 1]},
    )


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(tmp_path: Path, clock: Clock) -> ModelRegistry:
    return ModelRegistry(tmp_path, clock=clock)


def approve(registry: ModelRegistry, model: TrainedModel) -> str:
    mv, _ = registry.register(model, **OWNER)
    registry.validate(mv.ref, report=PASSED, **VALIDATOR)
    registry.approve(mv.ref, **VALIDATOR)
    return mv.ref


def test_version_is_a_hash_of_params_data_and_code() -> None:
    assert trained().version == trained().version
    assert len({trained().version, trained(0.6).version, trained(data="b" * 64).version}) == 3
    changed_code = TrainedModel(**{**trained().__dict__, "code_version": "beef"})
    assert changed_code.version != trained().version


def test_register_is_idempotent_and_stores_the_artefact(registry: ModelRegistry) -> None:
    mv, created = registry.register(trained(), **OWNER)
    again, created_again = registry.register(trained(), **OWNER)
    assert created and not created_again and again.version == mv.version
    assert mv.status == "draft" and mv.registered_by == "olga"
    assert registry.artefact(mv) == {"coef": [0.5, 1.0 / 3.0]}  # floats round-trip exactly


def test_full_lifecycle_with_who_and_when(registry: ModelRegistry, clock: Clock) -> None:
    ref = approve(registry, trained())
    clock.advance(1)
    registry.retire(ref, user="olga", role="model_owner", note="replaced")
    moves = [(t.from_status, t.to_status, t.by_user, t.by_role) for t in registry.history("pd")]
    assert moves == [
        (None, "draft", "olga", "model_owner"),
        ("draft", "validated", "victor", "validator"),
        ("validated", "approved", "victor", "validator"),
        ("approved", "retired", "olga", "model_owner"),
    ]
    assert all(t.at.endswith("+00:00") for t in registry.history("pd"))
    with pytest.raises(ModelNotFound, match="no approved version"):
        registry.approved("pd")


def test_only_an_approved_version_is_served(registry: ModelRegistry) -> None:
    with pytest.raises(ModelNotFound, match="not registered"):
        registry.approved("pd")
    mv, _ = registry.register(trained(), **OWNER)
    with pytest.raises(ModelNotFound, match="no approved version"):
        registry.approved("pd")
    registry.validate(mv.ref, report=PASSED, **VALIDATOR)
    with pytest.raises(ModelNotFound):
        registry.approved("pd")
    registry.approve(mv.ref, **VALIDATOR)
    assert registry.approved("pd").version == mv.version
    assert registry.approved("pd").validation_ref.startswith(f"{mv.ref}/validation:")


def test_maker_checker(registry: ModelRegistry) -> None:
    with pytest.raises(GovernanceError, match="may not register"):
        registry.register(trained(), user="ann", role="analyst")
    mv, _ = registry.register(trained(), user="vera", role="admin")
    with pytest.raises(GovernanceError, match="maker-checker"):
        registry.validate(mv.ref, user="vera", role="validator", report=PASSED)
    with pytest.raises(GovernanceError, match="only a validator"):
        registry.validate(mv.ref, user="olga", role="model_owner", report=PASSED)
    registry.validate(mv.ref, report=PASSED, **VALIDATOR)
    with pytest.raises(GovernanceError, match="only a validator"):
        registry.approve(mv.ref, user="root", role="admin")
    with pytest.raises(GovernanceError, match="maker-checker"):
        registry.approve(mv.ref, user="vera", role="validator")
    assert registry.get("pd", mv.version).status == "validated"  # nothing changed


def test_lifecycle_order_is_enforced(registry: ModelRegistry) -> None:
    mv, _ = registry.register(trained(), **OWNER)
    with pytest.raises(LifecycleError, match="draft; it cannot become approved"):
        registry.approve(mv.ref, **VALIDATOR)
    failed = {"checks": [{"name": "test_auc", "passed": False, "detail": "AUC 0.55"}]}
    with pytest.raises(LifecycleError, match="test_auc"):
        registry.validate(mv.ref, report=failed, **VALIDATOR)
    registry.retire(mv.ref, **OWNER)
    with pytest.raises(LifecycleError):
        registry.validate(mv.ref, report=PASSED, **VALIDATOR)
    with pytest.raises(GovernanceError):
        registry.retire(mv.ref, user="ann", role="analyst")


def test_approving_a_new_version_retires_the_old_one(registry: ModelRegistry, clock: Clock) -> None:
    v1 = approve(registry, trained(0.5))
    clock.advance(10)
    v2 = approve(registry, trained(0.7))
    assert registry.approved("pd").ref == v2
    old = registry.get(*v1.split("@"))
    assert old.status == "retired"
    assert old.transitions[-1].note == f"superseded by {v2}"


def test_history_answers_which_version_was_in_production(
    registry: ModelRegistry, clock: Clock
) -> None:
    assert clock.now.date() == date(2026, 1, 5)
    v1 = approve(registry, trained(0.5))  # approved 2026-01-05 09:00
    clock.advance(10)
    v2 = approve(registry, trained(0.7))  # approved 2026-01-15 09:00
    clock.advance(5)
    registry.retire(v2, **OWNER)  # 2026-01-20: nothing in production
    on = registry.in_production
    assert on("pd", date(2026, 1, 4)) is None
    assert on("pd", date(2026, 1, 5)).ref == v1  # a date means its end
    assert on("pd", datetime(2026, 1, 5, 8, 59, tzinfo=UTC)) is None
    assert on("pd", date(2026, 1, 14)).ref == v1
    assert on("pd", date(2026, 1, 15)).ref == v2
    assert on("pd", date(2026, 1, 19)).ref == v2
    assert on("pd", date(2026, 1, 20)) is None


def test_history_is_append_only(registry: ModelRegistry) -> None:
    approve(registry, trained())
    con = sqlite3.connect(registry.path)
    for sql in (
        "UPDATE transitions SET by_user = 'mallory'",
        "DELETE FROM transitions",
        "UPDATE model_versions SET registered_by = 'mallory'",
        "DELETE FROM model_versions",
        "DELETE FROM validations",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute(sql)
    con.close()
    assert [t.by_user for t in registry.history("pd")] == ["olga", "victor", "victor"]


def test_tampered_artefact_is_not_served(registry: ModelRegistry) -> None:
    ref = approve(registry, trained())
    mv = registry.approved("pd")
    path = registry.artefacts / "pd" / f"{mv.version}.json"
    path.write_text(json.dumps({"coef": [9.0, 9.0]}))
    with pytest.raises(GovernanceError, match="does not match"):
        registry.artefact(mv)
    assert ref == mv.ref


def test_references_are_validated() -> None:
    assert parse_ref("risk@0123456789ab") == ("risk", "0123456789ab")
    for bad in ("risk", "risk@latest", "../x@0123456789ab", "risk@0123456789ab; rm"):
        with pytest.raises(ToolInputError):
            parse_ref(bad)
