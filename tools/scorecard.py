"""Loan PD scorecard: weight-of-evidence binning, logistic regression, Platt calibration.

Every field of a loan is binned (quantile bins for numbers, one bin per level for categories,
rare levels pooled), each bin gets its weight of evidence WoE = ln(share of bads / share of
goods), a logistic regression on the WoE values gives the score, and a logistic (Platt) map fitted
on out-of-fold training scores calibrates it into a PD. The PD's log-odds is a sum of one term per
field, which is the explanation returned to the analyst. Everything is JSON-serializable so the
fitted scorecard is the registry artefact.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

NUMERIC = (
    "duration_months",
    "credit_amount",
    "installment_rate",
    "residence_since",
    "age",
    "existing_credits",
    "dependents",
)
CATEGORICAL = (
    "checking_status",
    "credit_history",
    "purpose",
    "savings",
    "employment_since",
    "personal_status_sex",
    "other_debtors",
    "property",
    "other_installment_plans",
    "housing",
    "job",
    "telephone",
    "foreign_worker",
)
FIELDS = NUMERIC + CATEGORICAL
OTHER = "(other)"


def _woe(bad: np.ndarray, good: np.ndarray, smoothing: float) -> np.ndarray:
    bad_share = (bad + smoothing) / (bad.sum() + smoothing * bad.size)
    good_share = (good + smoothing) / (good.sum() + smoothing * good.size)
    return np.log(bad_share / good_share)


def fit_bins(frame: Any, y: np.ndarray, params: dict[str, Any]) -> dict[str, Any]:
    """Bins and WoE per field from the training rows (``frame``: pandas, ``y``: 1 = default)."""
    bins: dict[str, Any] = {}
    for name in NUMERIC:
        x = frame[name].to_numpy(dtype=np.float64)
        qs = np.quantile(x, np.linspace(0, 1, params["numeric_bins"] + 1)[1:-1])
        edges = np.unique(qs)
        idx = np.searchsorted(edges, x, side="right")
        bad = np.bincount(idx, weights=y, minlength=edges.size + 1)
        total = np.bincount(idx, minlength=edges.size + 1).astype(np.float64)
        woe = _woe(bad, total - bad, params["woe_smoothing"])
        bins[name] = {
            "kind": "numeric",
            "edges": [float(e) for e in edges],
            "woe": [float(w) for w in woe],
            "range": [float(x.min()), float(x.max())],
        }
    for name in CATEGORICAL:
        x = frame[name].astype(str).to_numpy()
        levels, counts = np.unique(x, return_counts=True)
        kept = sorted(
            lv for lv, n in zip(levels, counts, strict=True) if n >= params["min_bin_rows"]
        )
        labels = [*kept, OTHER]
        lookup = {lv: i for i, lv in enumerate(kept)}
        idx = np.array([lookup.get(v, len(kept)) for v in x])
        bad = np.bincount(idx, weights=y, minlength=len(labels))
        total = np.bincount(idx, minlength=len(labels)).astype(np.float64)
        woe = _woe(bad, total - bad, params["woe_smoothing"])
        bins[name] = {
            "kind": "categorical",
            "levels": labels,
            "woe": [float(w) for w in woe],
            "seen": sorted(str(lv) for lv in levels),
        }
    return bins


def woe_matrix(bins: dict[str, Any], frame: Any) -> np.ndarray:
    """Rows x fields matrix of WoE values (unknown categories get the pooled bin's WoE)."""
    cols = []
    for name in FIELDS:
        spec = bins[name]
        woe = np.asarray(spec["woe"], dtype=np.float64)
        if spec["kind"] == "numeric":
            x = frame[name].to_numpy(dtype=np.float64)
            cols.append(woe[np.searchsorted(np.asarray(spec["edges"]), x, side="right")])
        else:
            import pandas as pd

            # Factorize the column (fast on Arrow strings), then map its few distinct values to
            # bins; unknown levels (-1) fall into the pooled bin, which is last.
            codes, uniques = pd.factorize(frame[name])
            pooled = len(spec["levels"]) - 1
            bin_of = pd.Index(spec["levels"]).get_indexer([str(u) for u in uniques])
            bin_of[bin_of < 0] = pooled
            bin_of = np.append(bin_of, pooled)  # code -1 (a missing value) reads the last entry
            cols.append(woe[bin_of[codes]])
    return np.column_stack(cols)


def fit_scorecard(frame: Any, y: np.ndarray, params: dict[str, Any]) -> dict[str, Any]:
    """Fit bins, the logistic regression and the Platt calibration; the JSON artefact."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    bins = fit_bins(frame, y, params)
    x = woe_matrix(bins, frame)
    lr = LogisticRegression(C=params["l2_c"], max_iter=2000)
    lr.fit(x, y)
    # Out-of-fold scores (bins and regression refitted per fold) for an honest calibration map.
    oof = np.empty(len(y), dtype=np.float64)
    folds = StratifiedKFold(n_splits=params["calibration_folds"], shuffle=True, random_state=11)
    for train_idx, hold_idx in folds.split(x, y):
        fold_bins = fit_bins(frame.iloc[train_idx], y[train_idx], params)
        fold_lr = LogisticRegression(C=params["l2_c"], max_iter=2000)
        fold_lr.fit(woe_matrix(fold_bins, frame.iloc[train_idx]), y[train_idx])
        oof[hold_idx] = fold_lr.decision_function(woe_matrix(fold_bins, frame.iloc[hold_idx]))
    platt = LogisticRegression(C=1e6, max_iter=2000)
    platt.fit(oof.reshape(-1, 1), y)
    return {
        "fields": list(FIELDS),
        "bins": bins,
        "coefficients": [float(c) for c in lr.coef_[0]],
        "intercept": float(lr.intercept_[0]),
        "calibration": {"a": float(platt.intercept_[0]), "b": float(platt.coef_[0][0])},
    }


def log_odds(card: dict[str, Any], frame: Any) -> np.ndarray:
    """Calibrated log-odds of default for each row."""
    x = woe_matrix(card["bins"], frame)
    # Element-wise sum, not a BLAS product: its order cannot vary with threads (bit-exact replay).
    raw = (x * np.asarray(card["coefficients"], dtype=np.float64)).sum(axis=1) + card["intercept"]
    return card["calibration"]["a"] + card["calibration"]["b"] * raw


def probability(card: dict[str, Any], frame: Any) -> np.ndarray:
    """Calibrated PD of each row (vectorized; used for batch scoring)."""
    z = log_odds(card, frame)
    return 1.0 / (1.0 + np.exp(-z))


def explain(card: dict[str, Any], row: dict[str, Any]) -> tuple[float, list[dict[str, Any]]]:
    """PD of one loan and each field's contribution to its log-odds (largest first)."""
    import pandas as pd

    frame = pd.DataFrame([row])
    woe = woe_matrix(card["bins"], frame)[0]
    b = card["calibration"]["b"]
    contributions = []
    for i, name in enumerate(card["fields"]):
        term = b * card["coefficients"][i] * float(woe[i])
        contributions.append(
            {"field": name, "value": row[name], "woe": float(woe[i]), "log_odds": term}
        )
    z = float(log_odds(card, frame)[0])
    contributions.sort(key=lambda c: (-abs(c["log_odds"]), c["field"]))
    return 1.0 / (1.0 + math.exp(-z)), contributions


def domain_flags(card: dict[str, Any], row: dict[str, Any]) -> list[dict[str, Any]]:
    """Fields outside the training range or with a level never seen in training."""
    flags = []
    for name in card["fields"]:
        spec = card["bins"][name]
        value = row[name]
        if spec["kind"] == "numeric":
            lo, hi = spec["range"]
            if not lo <= float(value) <= hi:
                flags.append(
                    {
                        "input": name,
                        "value": value,
                        "validated_range": [lo, hi],
                        "message": f"{name} = {value} is outside the training range [{lo:g}, "
                        f"{hi:g}]; the PD extrapolates",
                    }
                )
        elif str(value) not in spec["seen"]:
            flags.append(
                {
                    "input": name,
                    "value": value,
                    "validated_range": spec["seen"],
                    "message": f"{name} = '{value}' was never seen in training; the pooled "
                    f"'{OTHER}' weight of evidence was used",
                }
            )
    return flags


def test_metrics(y: np.ndarray, pd_hat: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """AUC, Gini, KS, Brier and a calibration table (PD deciles) on held-out loans."""
    from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

    auc = float(roc_auc_score(y, pd_hat))
    fpr, tpr, _ = roc_curve(y, pd_hat)
    order = np.argsort(pd_hat, kind="stable")
    table = []
    for i, chunk in enumerate(np.array_split(order, bins), start=1):
        table.append(
            {
                "bin": i,
                "loans": int(chunk.size),
                "mean_pd": float(pd_hat[chunk].mean()),
                "observed_default_rate": float(y[chunk].mean()),
                "pd_min": float(pd_hat[chunk].min()),
                "pd_max": float(pd_hat[chunk].max()),
            }
        )
    return {
        "loans": int(y.size),
        "defaults": int(y.sum()),
        "auc": auc,
        "gini": 2.0 * auc - 1.0,
        "ks": float(np.max(tpr - fpr)),
        "brier": float(brier_score_loss(y, pd_hat)),
        "mean_pd": float(pd_hat.mean()),
        "observed_default_rate": float(y.mean()),
        "calibration_table": table,
    }
