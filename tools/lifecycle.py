"""Training and independent validation of the registered models, by name.

Validation re-runs the model's training from the warehouse and checks that it reproduces the
registered artefact bit for bit, then re-measures the figures the approval rests on (the VaR
backtest for ``risk``, the test-set discrimination and calibration for ``pd``). The report is
stored in the registry with the validator's name; a blocking check that fails stops validation.
``pd_roc_points`` recomputes a registered PD version's ROC curve on its test split on demand (the
registry stores only the AUC, so registered versions and their hashes stay as they are).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools import credit, risk
from tools.errors import InsufficientData, ModelNotFound
from tools.registry import ModelRegistry, ModelVersion, TrainedModel, canonical_json, sha256_hex

TRAINERS: dict[str, Callable[..., TrainedModel]] = {
    risk.NAME: risk.train_risk,
    credit.NAME: credit.train_pd,
}
MIN_TEST_AUC = 0.70  # below this the scorecard does not rank borrowers usefully
MAX_CALIBRATION_GAP = 0.05  # |mean PD - observed default rate| on the test split
MIN_KUPIEC_P = 0.01  # the 99% Student-t EWMA VaR must not be rejected at 1%


def train(name: str, con: Any, params: dict[str, Any] | None = None) -> TrainedModel:
    """Train model ``name`` (``risk`` or ``pd``) on the warehouse behind ``con``."""
    if name not in TRAINERS:
        raise ModelNotFound(
            f"unknown model '{name}'", hint=f"models: {', '.join(sorted(TRAINERS))}"
        )
    return TRAINERS[name](con, params)


def validation_report(con: Any, registry: ModelRegistry, mv: ModelVersion) -> dict[str, Any]:
    """Reproduce and re-measure ``mv``; the report the registry stores with the validation."""
    retrained = train(mv.name, con, mv.params)
    artefact_sha = sha256_hex(canonical_json(retrained.artefact))
    checks = [
        _check(
            "reproducible",
            retrained.version == mv.version and artefact_sha == mv.artefact_sha256,
            f"retrained version {retrained.version}, artefact sha256 {artefact_sha[:12]} vs "
            f"registered {mv.version}, {mv.artefact_sha256[:12]}",
        )
    ]
    if mv.name == credit.NAME:
        test = retrained.metrics["test"]
        checks.append(_check("test_auc", test["auc"] >= MIN_TEST_AUC, f"AUC {test['auc']:.4f}"))
        gap = abs(test["mean_pd"] - test["observed_default_rate"])
        checks.append(
            _check("calibration_in_the_large", gap <= MAX_CALIBRATION_GAP, f"gap {gap:.4f}")
        )
    else:
        primary = next(
            r
            for r in retrained.metrics["backtest"]["results"]
            if r["method"] == "student_t_ewma" and abs(r["confidence"] - 0.99) < 1e-12
        )
        checks.append(
            _check(
                "kupiec_99_student_t_ewma",
                primary["kupiec_p"] >= MIN_KUPIEC_P,
                f"{primary['exceptions']} exceptions in {primary['observations']} days, "
                f"Kupiec p = {primary['kupiec_p']:.4f}",
            )
        )
    return {
        "model": mv.ref,
        "training_data_sha256": retrained.training_data_sha256,
        "checks": checks,
        "metrics": retrained.metrics,
    }


def pd_roc_points(con: Any, registry: ModelRegistry, mv: ModelVersion) -> dict[str, Any]:
    """ROC curve of PD version ``mv`` on its fixed test split, from its stored artefact.

    Scores the test loans (the split ``mv.params`` fixes) with the sha256-checked artefact and
    returns ``{"model", "loans", "defaults", "auc", "points"}``; each point is
    ``{"fpr", "tpr", "threshold"}`` (the PD at or above which a loan is called a default; None for
    sklearn's leading "nobody" point). ``auc`` is the trapezoid area under the points, which is how
    the registered test AUC was computed, so the two agree. InsufficientData when the loans table
    is no longer the data ``mv`` was trained on (the curve would describe other loans).
    """
    import numpy as np
    from sklearn.metrics import auc, roc_curve

    from tools import scorecard

    if mv.name != credit.NAME:
        raise ModelNotFound(
            f"{mv.ref} is not a PD model; ROC points exist only for '{credit.NAME}'"
        )
    card = registry.artefact(mv)["scorecard"]
    frame = credit.loans_frame(con)
    if credit.data_sha256(frame) != mv.training_data_sha256:
        raise InsufficientData(
            f"the loans table is not the data {mv.ref} was trained on",
            hint="reload the loans it was trained on, or train and register a new version",
        )
    y = frame["defaulted"].to_numpy(dtype=np.float64)
    _, test = credit.split(frame, mv.params)
    pd_hat = scorecard.probability(card, frame.iloc[test])
    fpr, tpr, thresholds = roc_curve(y[test], pd_hat)
    points = [
        {"fpr": float(f), "tpr": float(t), "threshold": float(h) if np.isfinite(h) else None}
        for f, t, h in zip(fpr, tpr, thresholds, strict=True)
    ]
    return {
        "model": mv.ref,
        "loans": int(test.size),
        "defaults": int(y[test].sum()),
        "auc": float(auc(fpr, tpr)),
        "points": points,
    }


def _check(name: str, passed: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "passed": bool(passed), "detail": detail}
