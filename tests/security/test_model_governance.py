"""SECURITY.md rows 6, 7, 16 and 21 for the model tools: approved versions only, domain flags,
typed arguments, and maker-checker enforced by the registry itself (not just the CLI).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.models.support import build_models_home, private_runtime
from tools.credit import default_probability
from tools.errors import GovernanceError, ModelNotFound, ToolInputError
from tools.risk import risk_metrics

pytestmark = pytest.mark.slow  # trains both models on the demo data once


@pytest.fixture(scope="module")
def governed_home(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_models_home(demo_home, tmp_path_factory.mktemp("governed") / "home")


@pytest.fixture
def rt(governed_home: Path, tmp_path: Path):  # noqa: ANN201
    return private_runtime(governed_home, tmp_path / "home-copy")


def test_row6_a_pending_version_is_never_served(rt) -> None:  # noqa: ANN001
    from tools.credit import train_pd
    from tools.lifecycle import validation_report

    v1 = rt.registry.approved("pd")
    with rt.warehouse.reader() as con:
        v2, created = rt.registry.register(
            train_pd(con, {"numeric_bins": 4}), user="model_owner", role="model_owner"
        )
        assert created and v2.version != v1.version
        assert default_probability(con, rt.registry, {"loan_id": 7})["model"] == v1.ref
        rt.registry.validate(
            v2.ref, user="validator", role="validator",
            report=validation_report(con, rt.registry, v2),
        )  # fmt: skip
        served = default_probability(con, rt.registry, {"loan_id": 7})
        assert served["model"] == v1.ref and served["validation"] == v1.validation_ref
        rt.registry.approve(v2.ref, user="validator", role="validator")
        assert default_probability(con, rt.registry, {"loan_id": 7})["model"] == v2.ref
        # Replaying the answer logged under v1 runs v1 again (now retired), bit for bit.
        replayed = default_probability(con, rt.registry, {"loan_id": 7}, replay_version=v1.ref)
        assert json.dumps(replayed, sort_keys=True) == json.dumps(served, sort_keys=True)


def test_row6_unknown_model_is_a_clear_error(rt) -> None:  # noqa: ANN001
    with pytest.raises(ModelNotFound, match="'stress' is not registered"):
        rt.registry.approved("stress")
    with pytest.raises(ModelNotFound, match="not registered"):
        rt.registry.get("pd", "0123456789ab")


def test_row7_inputs_outside_the_validated_range_are_flagged(rt) -> None:  # noqa: ANN001
    with rt.warehouse.reader() as con:
        out = risk_metrics(con, rt.registry, {"ticker": "AAPL", "confidence": 0.999})
        flag = next(f for f in out["out_of_domain"] if f["input"] == "confidence")
        assert flag["validated_range"] == [0.95, 0.99] and "outside" in flag["message"]
        stale = default_probability(con, rt.registry, {"issuer": "MSFT", "as_of": "2022-12-28"})
        assert "fundamentals_age_days" in {f["input"] for f in stale["out_of_domain"]}


@pytest.mark.parametrize(
    "args",
    [
        {"ticker": "AAPL", "model_version": "0123456789ab"},
        {"ticker": "AAPL", "version": "risk@0123456789ab"},
        {"ticker": "AAPL", "path": "/etc/passwd"},
        {"ticker": "../../etc/passwd"},
        {"ticker": "AAPL", "confidence": 1.5},
        {"ticker": "AAPL", "horizon_days": 10_000},
        {"ticker": "AAPL", "lookback_days": 10},
        {"weights": {"AAPL' OR 1=1 --": 1.0}},
    ],
)
def test_row16_out_of_schema_risk_arguments_are_rejected(rt, args) -> None:  # noqa: ANN001
    with rt.warehouse.reader() as con, pytest.raises(ToolInputError) as exc:
        risk_metrics(con, rt.registry, args)
    assert "invalid RiskRequest arguments" in str(exc.value)
    assert exc.value.hint and "registry" in exc.value.hint


@pytest.mark.parametrize(
    "args",
    [
        {"loan_id": 1, "model": "pd@0123456789ab"},
        {"issuer": "KO", "artefact": "/tmp/x.json"},
        {"loan_id": 0},
        {"loan": {"age": 30}},
        {"issuer": "KO", "loan_id": 1},
    ],
)
def test_row16_out_of_schema_pd_arguments_are_rejected(rt, args) -> None:  # noqa: ANN001
    with rt.warehouse.reader() as con, pytest.raises(ToolInputError, match="PDRequest"):
        default_probability(con, rt.registry, args)


def test_row21_a_model_owner_cannot_approve_own_model(rt) -> None:  # noqa: ANN001
    from tools.credit import train_pd

    with rt.warehouse.reader() as con:
        trained = train_pd(con, {"numeric_bins": 6})
    mv, _ = rt.registry.register(trained, user="model_owner", role="model_owner")
    for user, role in [("model_owner", "model_owner"), ("analyst", "analyst"), ("admin", "admin")]:
        with pytest.raises(GovernanceError):
            rt.registry.validate(mv.ref, user=user, role=role, report={"checks": []})
    rt.users.add("owner_turned_validator", "validator")
    rt.registry.validate(mv.ref, user="validator", role="validator", report={"checks": []})
    with pytest.raises(GovernanceError):
        rt.registry.approve(mv.ref, user="model_owner", role="model_owner")
    # A validator who registered a version (as admin) still may not check it: maker-checker.
    mine, _ = rt.registry.register(
        type(trained)(**{**trained.__dict__, "params": trained.params | {"note": "x"}}),
        user="owner_turned_validator", role="admin",
    )  # fmt: skip
    with pytest.raises(GovernanceError, match="maker-checker"):
        rt.registry.validate(
            mine.ref, user="owner_turned_validator", role="validator", report={"checks": []}
        )
    assert rt.registry.get("pd", mv.version).status == "validated"
