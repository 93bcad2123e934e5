"""risk_metrics and default_probability on the demo warehouse, served by the approved versions."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from tools.credit import default_probability
from tools.errors import InsufficientData, ModelNotFound, ToolInputError, UnknownEntity
from tools.registry import ModelRegistry
from tools.risk import risk_metrics

pytestmark = pytest.mark.slow  # the session fixture trains both models once (~10 s)


@pytest.fixture
def served(models_home):  # noqa: ANN001, ANN201
    from app.runtime import Runtime
    from app.settings import Settings

    rt = Runtime(Settings(home=models_home))
    with rt.warehouse.reader() as con:
        yield con, ModelRegistry(models_home)


def test_portfolio_risk_has_every_figure_with_its_inputs(served) -> None:  # noqa: ANN001
    con, registry = served
    out = risk_metrics(con, registry, {"portfolio": "DEMO", "confidence": 0.99})
    v = out["values"]
    assert out["model"] == registry.approved("risk").ref
    assert out["validation"] == registry.approved("risk").validation_ref
    assert out["target"]["kind"] == "portfolio" and out["window"]["days"] == 1000
    for method in ("historical", "normal", "student_t", "ewma_normal", "garch_normal"):
        assert 0 < v[f"var_{method}"] < v[f"es_{method}"] < 0.5, method
        assert v[f"var_{method}_usd"] == pytest.approx(v[f"var_{method}"] * v["market_value_usd"])
    assert v["var_student_t"] > v["var_normal"]  # fat tails at 99%
    assert 0.5 < v["beta_sp500"] < 1.5 and 0 < v["max_drawdown"] < 1
    exposure = out["exposure"]
    assert len(exposure) == 20
    assert sum(e["weight"] for e in exposure) == pytest.approx(1.0)
    assert sum(e["market_value_usd"] for e in exposure) == pytest.approx(v["market_value_usd"])
    assert sum(e["component_var_normal"] for e in exposure) == pytest.approx(v["var_normal"])
    # Inputs: a price and quantity per position, a return window per ticker and the market.
    features = [i for i in out["inputs"] if i["feature"] == "log_return_1d"]
    assert {i["entity"] for i in features} == {e["ticker"] for e in exposure} | {"^GSPC"}
    assert all(i["as_of"] == out["as_of"] and i["observations"] == 1000 for i in features)
    assert all(len(i["version"]) > 0 and len(i["values_sha256"]) == 64 for i in features)
    assert "sqrt(1)" in out["horizon_scaling"]
    assert out["out_of_domain"] == []


def test_horizon_scaling_is_square_root_of_time(served) -> None:  # noqa: ANN001
    con, registry = served
    one = risk_metrics(con, registry, {"ticker": "KO"})["values"]
    ten = risk_metrics(con, registry, {"ticker": "KO", "horizon_days": 10})
    assert ten["values"]["var_historical"] == pytest.approx(one["var_historical"] * np.sqrt(10))
    assert "sqrt(10)" in ten["horizon_scaling"] and "GARCH" in ten["horizon_scaling"]
    assert ten["exposure"] == []


def test_same_inputs_same_version_give_bit_identical_output(served) -> None:  # noqa: ANN001
    con, registry = served
    args = {"weights": {"AAPL": 0.6, "MSFT": 0.4}, "confidence": 0.975, "as_of": "2008-10-15"}
    first = json.dumps(risk_metrics(con, registry, args), sort_keys=True)
    assert json.dumps(risk_metrics(con, registry, args), sort_keys=True) == first
    pd_args = {"issuer": "PEP"}
    first_pd = json.dumps(default_probability(con, registry, pd_args), sort_keys=True)
    assert json.dumps(default_probability(con, registry, pd_args), sort_keys=True) == first_pd


def test_out_of_domain_inputs_are_flagged(served) -> None:  # noqa: ANN001
    con, registry = served
    out = risk_metrics(con, registry, {"ticker": "^GSPC", "confidence": 0.999, "horizon_days": 20})
    flagged = {f["input"] for f in out["out_of_domain"]}
    assert {"confidence", "horizon_days"} <= flagged
    crisis = risk_metrics(con, registry, {"ticker": "^GSPC", "as_of": "2008-11-20"})
    assert "volatility_ewma_annualized" not in {f["input"] for f in crisis["out_of_domain"]} or (
        crisis["values"]["volatility_ewma_annualized"] > 0.5
    )


def test_bad_risk_requests_get_typed_errors(served) -> None:  # noqa: ANN001
    con, registry = served
    with pytest.raises(UnknownEntity, match="ZZZZ"):
        risk_metrics(con, registry, {"ticker": "ZZZZ"})
    with pytest.raises(UnknownEntity, match="NOPE"):
        risk_metrics(con, registry, {"portfolio": "NOPE"})
    with pytest.raises(InsufficientData, match="needs at least"):
        risk_metrics(con, registry, {"ticker": "AAPL", "as_of": "1990-06-01"})
    for bad in (
        {"ticker": "AAPL", "confidence": 0.5},
        {"ticker": "AAPL", "horizon_days": 251},
        {"ticker": "AAPL", "horizon_days": 0},
        {"ticker": "aapl; drop"},
        {"ticker": "AAPL", "portfolio": "DEMO"},
        {},
        {"weights": {"AAPL": 1.0, "MSFT": -1.0}},
        {"weights": {"AAPL": float("nan")}},
    ):
        with pytest.raises(ToolInputError):
            risk_metrics(con, registry, bad)


def test_loan_pd_with_contributions(served) -> None:  # noqa: ANN001
    con, registry = served
    out = default_probability(con, registry, {"loan_id": 5})
    pd_value = out["values"]["probability_of_default"]
    assert out["model"] == registry.approved("pd").ref and 0 < pd_value < 1
    contributions = out["explanation"]
    assert len(contributions) == 20
    card = registry.artefact(registry.approved("pd"))["scorecard"]
    intercept = card["calibration"]["a"] + card["calibration"]["b"] * card["intercept"]
    log_odds = intercept + sum(c["log_odds"] for c in contributions)
    assert 1 / (1 + np.exp(-log_odds)) == pytest.approx(pd_value, rel=1e-12)
    assert abs(contributions[0]["log_odds"]) >= abs(contributions[-1]["log_odds"])
    assert {i["feature"] for i in out["inputs"]} == {c["field"] for c in contributions}


def test_loan_profile_outside_training_is_flagged(served) -> None:  # noqa: ANN001
    con, registry = served
    row = con.execute("SELECT * FROM loans WHERE loan_id = 5").df().iloc[0].to_dict()
    profile = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    profile.pop("loan_id"), profile.pop("defaulted")
    same = default_probability(con, registry, {"loan": profile})
    stored = default_probability(con, registry, {"loan_id": 5})
    assert same["values"] == stored["values"] and same["out_of_domain"] == []
    odd = default_probability(
        con, registry, {"loan": profile | {"age": 99, "purpose": "yacht", "duration_months": 240}}
    )
    assert {f["input"] for f in odd["out_of_domain"]} == {"age", "purpose", "duration_months"}


def test_issuer_pd_is_point_in_time(served) -> None:  # noqa: ANN001
    con, registry = served
    out = default_probability(con, registry, {"issuer": "PEP", "as_of": "2022-06-30"})
    v = out["values"]
    assert out["as_of"] == "2022-06-30" and 0 <= v["probability_of_default"] < 0.5
    assert v["distance_to_default"] > 0 and v["asset_value_usd_m"] > v["default_point_usd_m"]
    filed = {i["feature"]: i for i in out["inputs"]}
    assert date.fromisoformat(filed["total_liabilities"]["as_of"]) <= date(2022, 6, 30)
    assert filed["total_liabilities"]["period_end"] == "2021-12-25"  # FY2022 not yet filed
    assert filed["realized_vol_60d"]["as_of"] <= "2022-06-30"
    with pytest.raises(InsufficientData, match="filed on or before"):
        default_probability(con, registry, {"issuer": "JNJ", "as_of": "2022-12-01"})
    with pytest.raises(UnknownEntity):
        default_probability(con, registry, {"issuer": "ZZZZ"})
    with pytest.raises(ToolInputError, match="as_of applies to issuer"):
        default_probability(con, registry, {"loan_id": 5, "as_of": "2020-01-01"})


def test_no_approved_version_is_a_clear_error(served, tmp_path) -> None:  # noqa: ANN001
    con, _ = served
    empty = ModelRegistry(tmp_path)
    with pytest.raises(ModelNotFound, match="risk"):
        risk_metrics(con, empty, {"ticker": "AAPL"})
    with pytest.raises(ModelNotFound, match="pd"):
        default_probability(con, empty, {"loan_id": 1})


REPLAY_SCRIPT = """
import json, sys
from pathlib import Path
from app.runtime import Runtime
from app.settings import Settings
from tools.credit import default_probability
from tools.risk import risk_metrics
rt = Runtime(Settings(home=Path(sys.argv[1])))
with rt.warehouse.reader() as con:
    out = [risk_metrics(con, rt.registry, {"portfolio": "DEMO", "horizon_days": 5}),
           default_probability(con, rt.registry, {"loan_id": 11})]
print(json.dumps(out, sort_keys=True))
"""


def test_replay_in_other_processes_is_bit_identical(served, models_home) -> None:  # noqa: ANN001
    import os
    import subprocess
    import sys

    con, registry = served
    here = json.dumps(
        [
            risk_metrics(con, registry, {"portfolio": "DEMO", "horizon_days": 5}),
            default_probability(con, registry, {"loan_id": 11}),
        ],
        sort_keys=True,
    )
    for threads in ("1", "2"):
        env = os.environ | {"OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        done = subprocess.run(
            [sys.executable, "-c", REPLAY_SCRIPT, str(models_home)],
            capture_output=True, text=True, env=env, check=True, timeout=300,
        )  # fmt: skip
        assert done.stdout.strip() == here
