"""The PD model's ROC points, recomputed from the registered artefact on the fixed test split."""

from __future__ import annotations

import numpy as np
import pytest

from tools.errors import InsufficientData, ModelNotFound
from tools.lifecycle import pd_roc_points

pytestmark = pytest.mark.slow  # the session fixture trains both models once (~10 s)


def test_roc_points_reproduce_the_registered_auc(models_rt) -> None:  # noqa: ANN001
    mv = models_rt.registry.approved("pd")
    with models_rt.warehouse.reader() as con:
        roc = pd_roc_points(con, models_rt.registry, mv)
        again = pd_roc_points(con, models_rt.registry, mv)
    assert roc == again  # deterministic
    test = mv.metrics["test"]
    assert roc["model"] == mv.ref
    assert (roc["loans"], roc["defaults"]) == (test["loans"], test["defaults"])
    assert roc["auc"] == test["auc"]
    fpr = np.array([p["fpr"] for p in roc["points"]])
    tpr = np.array([p["tpr"] for p in roc["points"]])
    # The area under the returned points themselves, independently of sklearn.
    assert float(np.trapezoid(tpr, fpr)) == pytest.approx(test["auc"], abs=1e-12)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    thresholds = [p["threshold"] for p in roc["points"]]
    assert thresholds[0] is None and all(0.0 < t < 1.0 for t in thresholds[1:])
    assert thresholds[1:] == sorted(thresholds[1:], reverse=True)
    # KS stored at registration is the largest vertical gap of this same curve.
    assert float(np.max(tpr - fpr)) == pytest.approx(test["ks"], abs=1e-12)


def test_roc_points_refuse_other_models_and_changed_loans(models_rt) -> None:  # noqa: ANN001
    risk = models_rt.registry.approved("risk")
    mv = models_rt.registry.approved("pd")
    with models_rt.warehouse.reader() as con, pytest.raises(ModelNotFound):
        pd_roc_points(con, models_rt.registry, risk)
    with models_rt.warehouse.writer() as con:
        con.execute(
            "UPDATE loans SET defaulted = 1 - defaulted "
            "WHERE loan_id = (SELECT min(loan_id) FROM loans)"
        )
    with models_rt.warehouse.reader() as con, pytest.raises(InsufficientData):
        pd_roc_points(con, models_rt.registry, mv)
