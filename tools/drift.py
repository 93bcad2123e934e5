"""Model-input drift: PSI and KS between a model's development sample and recent data.

PSI (population stability index) = sum over bins of (a - e) * ln(a / e), with e and a the shares
of the development and the recent sample in each bin; bins are the development sample's deciles
for numbers and its levels for categories (an empty share is floored at 1e-4 so the log is
finite). KS is the two-sample Kolmogorov-Smirnov statistic (numbers only). The development
samples: the PD scorecard's training split of the loans (stored as a baseline per model version
the first time the loans table still matches the training data's sha256), and for the market
models the risk model's training window of returns and equity volatilities.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np

from ingestion.warehouse import Migration, Warehouse
from tools import credit, scorecard
from tools.errors import InsufficientData
from tools.registry import ModelRegistry

BASELINE_DDL = """
CREATE TABLE IF NOT EXISTS monitor_baselines (
  model_ref VARCHAR PRIMARY KEY,
  created_at TIMESTAMP NOT NULL,
  payload VARCHAR NOT NULL
)
"""
MIGRATIONS: tuple[Migration, ...] = (Migration("monitor_0001_baselines", BASELINE_DDL),)
FLOOR = 1e-4
MARKET_FEATURES = ("log_return_1d", "realized_vol_60d")


def psi(expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> float:
    """PSI of two bin-count (or share) vectors of the same bins."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    e = np.maximum(e / e.sum(), FLOOR)
    a = np.maximum(a / a.sum(), FLOOR) if a.sum() else np.full_like(e, FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def compare_numeric(
    dev: Sequence[float], recent: Sequence[float], bins: int = 10
) -> dict[str, Any]:
    """PSI on the development deciles and the KS statistic of two numeric samples."""
    from scipy.stats import ks_2samp

    d = np.asarray(dev, dtype=np.float64)
    r = np.asarray(recent, dtype=np.float64)
    if d.size == 0 or r.size == 0:
        raise InsufficientData("a drift comparison needs values in both samples")
    edges = np.unique(np.quantile(d, np.linspace(0, 1, bins + 1)[1:-1]))
    e = np.bincount(np.searchsorted(edges, d, side="right"), minlength=edges.size + 1)
    a = np.bincount(np.searchsorted(edges, r, side="right"), minlength=edges.size + 1)
    return {
        "psi": psi(e, a),
        "ks": float(ks_2samp(d, r).statistic),
        "dev_n": int(d.size),
        "recent_n": int(r.size),
        "dev_mean": float(d.mean()),
        "recent_mean": float(r.mean()),
    }


def compare_categorical(dev: Sequence[str], recent: Sequence[str]) -> dict[str, Any]:
    """PSI over the development sample's levels (unseen recent levels pooled into one bin)."""
    levels = sorted(set(dev))
    index = {v: i for i, v in enumerate(levels)}
    e = np.bincount([index[v] for v in dev], minlength=len(levels) + 1)
    a = np.bincount([index.get(v, len(levels)) for v in recent], minlength=len(levels) + 1)
    return {"psi": psi(e, a), "ks": None, "dev_n": len(dev), "recent_n": len(recent)}


# -- development samples ---------------------------------------------------------------------------
def pd_baseline(warehouse: Warehouse, registry: ModelRegistry) -> dict[str, Any]:
    """The approved PD model's development sample: each input's training values and dev scores.

    Stored once per model version; built from the loans table only while it still matches the
    sha256 of the data the version was trained on.
    """
    mv = registry.approved(credit.NAME)
    with warehouse.reader() as con:
        known = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'monitor_baselines'"
        ).fetchall()[0][0]
        rows = (
            con.execute(
                "SELECT payload FROM monitor_baselines WHERE model_ref = ?", [mv.ref]
            ).fetchall()
            if known
            else []
        )
        if rows:
            return dict(json.loads(rows[0][0]))
        frame = credit.loans_frame(con)
    if credit.data_sha256(frame) != mv.training_data_sha256:
        raise InsufficientData(
            f"the loans table changed since {mv.ref} was trained and no development baseline was "
            "stored for it",
            hint="baselines are stored by the first `sightline monitor` after a model is "
            "approved; restore the training data once, or retrain and approve a new version",
        )
    train, _ = credit.split(frame, mv.params)
    dev = frame.iloc[train]
    card = registry.artefact(mv)["scorecard"]
    payload = {
        "model": mv.ref,
        "inputs": {f: dev[f].tolist() for f in scorecard.FIELDS},
        "scores": scorecard.probability(card, dev).tolist(),
    }
    with warehouse.writer() as con:
        con.execute(
            "INSERT OR REPLACE INTO monitor_baselines VALUES (?, now()::TIMESTAMP, ?)",
            [mv.ref, json.dumps(payload)],
        )
    return payload


def loan_inputs(con: Any) -> dict[str, list[Any]]:
    """The current loan population's model inputs (what the batch scores)."""
    frame = credit.loans_frame(con)
    return {f: frame[f].tolist() for f in scorecard.FIELDS}


def pd_input_drift(baseline: dict[str, Any], recent: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """PSI (and KS for numbers) of each PD scorecard input."""
    out = []
    for name in scorecard.FIELDS:
        dev_values, now = baseline["inputs"][name], recent[name]
        if name in scorecard.NUMERIC:
            stats = compare_numeric(dev_values, now)
        else:
            stats = compare_categorical([str(v) for v in dev_values], [str(v) for v in now])
        out.append({"model": baseline["model"], "input": name} | stats)
    return out


def market_samples(
    con: Any, tickers: Sequence[str], feature: str, start: date | None, end: date
) -> list[float]:
    """Pooled values of one market feature over ``tickers`` between two dates (point-in-time)."""
    from features.store import get_feature_history

    values: list[float] = []
    for ticker in tickers:
        for fv in get_feature_history(con, ticker, feature, start, end):
            if fv.value is not None and math.isfinite(fv.value):
                values.append(float(fv.value))
    return values


def market_drift(
    con: Any, registry: ModelRegistry, tickers: Sequence[str], as_of: date, days: int
) -> list[dict[str, Any]]:
    """Risk-model inputs over the last ``days`` trading days to ``as_of`` vs its training window."""
    mv = registry.approved("risk")
    start = date.fromisoformat(mv.params["training_start"])
    end = date.fromisoformat(mv.params["training_end"])
    recent_start = as_of - timedelta(days=int(days * 1.45) + 3)  # trading -> calendar days
    out = []
    for feature in MARKET_FEATURES:
        dev = market_samples(con, tickers, feature, start, end)
        recent = market_samples(con, tickers, feature, recent_start, as_of)
        if not dev or not recent:
            continue
        out.append({"model": mv.ref, "input": feature} | compare_numeric(dev, recent))
    return out
