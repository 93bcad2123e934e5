"""The default-probability (PD) model as a tool: a loan scorecard and Merton issuer PD, versioned.

One registered model, ``pd``, holds both parts: the scorecard fitted on the loans table (German
credit) with a fixed train/test split, and the Merton parameters (risk-free rate, horizon, domain).
``default_probability`` serves the approved version; ``train_pd`` fits a new one.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from tools import inputs, merton, scorecard, scorecard_fast
from tools.determinism import deterministic
from tools.errors import InsufficientData, UnknownEntity
from tools.registry import ModelRegistry, TrainedModel, code_version
from tools.requests import PDRequest, parse_request

NAME = "pd"
PARAMS: dict[str, Any] = {
    "test_share": 0.3,
    "split_seed": 7,
    "numeric_bins": 5,
    "woe_smoothing": 0.5,
    "min_bin_rows": 20,
    "l2_c": 1.0,
    "calibration_folds": 5,
    "merton_rate": 0.02,  # annual risk-free rate, continuously compounded
    "merton_horizon_years": 1.0,
    "merton_default_point": "total_liabilities",
    "merton_equity_vol_feature": inputs.EQUITY_VOL,
    "merton_domain": {
        "equity_volatility": [0.05, 1.5],
        "leverage": [0.0, 0.95],  # D / (E + D)
        "fundamentals_age_days": [0, 550],
    },
}


def _code_version() -> str:
    here = Path(__file__).resolve().parent
    return code_version(
        *(
            here / f
            for f in ("credit.py", "scorecard.py", "scorecard_fast.py", "merton.py", "inputs.py")
        )
    )


@deterministic
def default_probability(
    con: Any,
    registry: ModelRegistry,
    request: PDRequest | dict[str, Any],
    *,
    replay_version: str | None = None,
) -> dict[str, Any]:
    """Probability of default of a loan (scorecard) or a listed issuer (Merton), approved model.

    For a loan (``loan_id`` in the loans table, or the applicant's fields) the result holds the
    calibrated PD and each field's contribution to its log-odds. For an issuer it holds the
    Merton distance to default and PD = N(-DD) with every input (price, shares and liabilities
    from filings known at the as-of date, equity volatility from the feature store). Inputs outside
    the validated range are listed in ``out_of_domain``.
    """
    req = parse_request(PDRequest, request)
    mv = registry.in_use(NAME, replay_version)
    art = registry.artefact(mv)
    if req.kind == "issuer":
        body = _issuer_pd(con, art, req)
    else:
        body = _loan_pd(con, art, req)
    return {"tool": "default_probability", "model": mv.ref, "validation": mv.validation_ref} | body


def _loan_pd(con: Any, art: dict[str, Any], req: PDRequest) -> dict[str, Any]:
    card = art["scorecard"]
    if req.loan_id is not None:
        frame = con.execute("SELECT * FROM loans WHERE loan_id = ?", [req.loan_id]).df()
        if frame.empty:
            raise UnknownEntity(f"no loan with loan_id {req.loan_id} in the loans table")
        row = {f: _plain(frame.iloc[0][f]) for f in scorecard.FIELDS}
        subject: dict[str, Any] = {"kind": "loan", "loan_id": req.loan_id}
        source = "table:loans"
    else:
        assert req.loan is not None
        row = req.loan.model_dump()
        subject = {"kind": "loan", "loan_id": None}
        source = "request"
    # One loan: the frame-free path (bit-identical to scorecard.explain; tests/models).
    pd_value, contributions = scorecard_fast.explain_row(card, row)
    entity = f"loan:{req.loan_id}" if req.loan_id is not None else "loan:request"
    records = [
        {"entity": entity, "feature": f, "version": source, "as_of": None, "value": row[f]}
        for f in scorecard.FIELDS
    ]
    return {
        "subject": subject,
        "method": "scorecard (WoE + logistic regression, Platt-calibrated)",
        "values": {"probability_of_default": pd_value},
        "explanation": contributions,
        "horizon_scaling": "PD over the loan's life as labelled in the training data (German "
        "credit: good/bad repayment); not annualized",
        "inputs": records,
        "out_of_domain": scorecard.domain_flags(card, row),
    }


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _issuer_pd(con: Any, art: dict[str, Any], req: PDRequest) -> dict[str, Any]:
    m = art["merton"]
    assert req.issuer is not None
    inputs.require_ticker(con, req.issuer)
    price_date, price = inputs.last_price(con, req.issuer, req.as_of)
    as_of = req.as_of or price_date
    shares = inputs.filed_fundamental(con, req.issuer, "shares_outstanding", as_of)
    debt = inputs.filed_fundamental(con, req.issuer, m["default_point"], as_of)
    vol = inputs.latest_feature(con, req.issuer, m["equity_vol_feature"], as_of)
    equity = price * shares["value"]  # USD millions (shares in millions)
    sigma_e = float(vol.value)
    result = merton.solve_merton(equity, sigma_e, debt["value"], m["rate"], m["horizon_years"])
    leverage = debt["value"] / (equity + debt["value"])
    records = [
        inputs.table_record(req.issuer, "adj_close", price_date, price, "table:prices"),
        shares,
        debt,
        inputs.feature_value_record(vol),
    ]
    age = max((as_of - date.fromisoformat(r["as_of"])).days for r in (shares, debt))
    observed = {"equity_volatility": sigma_e, "leverage": leverage, "fundamentals_age_days": age}
    flags = [
        {
            "input": name,
            "value": value,
            "validated_range": bounds,
            "message": f"{name} = {value:.4g} is outside the validated range [{bounds[0]:g}, "
            f"{bounds[1]:g}]; treat the PD with caution",
        }
        for name, value in observed.items()
        for bounds in [m["domain"][name]]
        if not bounds[0] <= value <= bounds[1]
    ]
    if not result.converged:
        flags.append(
            {"input": "merton_solver", "value": result.iterations, "validated_range": None,
             "message": "the Merton equations did not converge; the PD is unreliable"}
        )  # fmt: skip
    return {
        "subject": {"kind": "issuer", "issuer": req.issuer},
        "as_of": as_of.isoformat(),
        "method": "Merton distance to default",
        "values": {
            "probability_of_default": result.probability_of_default,
            "distance_to_default": result.distance_to_default,
            "asset_value_usd_m": result.asset_value,
            "asset_volatility": result.asset_volatility,
            "equity_value_usd_m": equity,
            "equity_volatility": sigma_e,
            "default_point_usd_m": debt["value"],
            "leverage": leverage,
            "risk_free_rate": m["rate"],
            "horizon_years": m["horizon_years"],
            "solver_iterations": result.iterations,
        },
        "explanation": [
            {"input": "equity value (price x shares outstanding)", "value": equity},
            {"input": "equity volatility (annualized)", "value": sigma_e},
            {"input": f"default point ({m['default_point']})", "value": debt["value"]},
            {"input": "risk-free rate", "value": m["rate"]},
        ],
        "horizon_scaling": f"PD over {m['horizon_years']:g} year(s): the Merton horizon T; "
        "equity volatility is annualized",
        "inputs": records,
        "out_of_domain": flags,
    }


# -- training --------------------------------------------------------------------------------------
def loans_frame(con: Any) -> Any:
    """The loans table in loan_id order (the training data)."""
    frame = con.execute("SELECT * FROM loans ORDER BY loan_id").df()
    if len(frame) < 100 or frame["defaulted"].nunique() < 2:
        raise InsufficientData(
            f"the loans table has {len(frame)} rows; the scorecard needs at least 100 with both "
            "outcomes",
            hint="load loans (`sightline demo` or `sightline ingest loans FILE`)",
        )
    return frame


def split(frame: Any, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The fixed, stratified train/test split (row positions)."""
    from sklearn.model_selection import train_test_split

    y = frame["defaulted"].to_numpy()
    train, test = train_test_split(
        np.arange(len(frame)),
        test_size=params["test_share"],
        stratify=y,
        random_state=params["split_seed"],
    )
    return np.sort(train), np.sort(test)


def data_sha256(frame: Any) -> str:
    """sha256 of the training rows (CSV of every column, loan_id order)."""
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


@deterministic
def train_pd(con: Any, params: dict[str, Any] | None = None) -> TrainedModel:
    """Fit the scorecard on the training split; measure it on the test split."""
    p = PARAMS | (params or {})
    frame = loans_frame(con)
    y = frame["defaulted"].to_numpy(dtype=np.float64)
    train, test = split(frame, p)
    card = scorecard.fit_scorecard(frame.iloc[train], y[train], p)
    metrics = {
        "test": scorecard.test_metrics(y[test], scorecard.probability(card, frame.iloc[test])),
        "train": {
            k: v
            for k, v in scorecard.test_metrics(
                y[train], scorecard.probability(card, frame.iloc[train])
            ).items()
            if k != "calibration_table"
        },
        "split": {"train_loans": int(train.size), "test_loans": int(test.size)},
    }
    merton_part = {
        "rate": p["merton_rate"],
        "horizon_years": p["merton_horizon_years"],
        "default_point": p["merton_default_point"],
        "equity_vol_feature": p["merton_equity_vol_feature"],
        "domain": p["merton_domain"],
    }
    domain = {
        "loan_numeric_ranges": {f: card["bins"][f]["range"] for f in scorecard.NUMERIC},
        "loan_levels": {f: card["bins"][f]["seen"] for f in scorecard.CATEGORICAL},
        "merton": p["merton_domain"],
    }
    return TrainedModel(
        name=NAME,
        params=p,
        training_data_sha256=data_sha256(frame),
        code_version=_code_version(),
        artefact={"scorecard": card, "merton": merton_part},
        metrics=metrics,
        domain=domain,
    )
