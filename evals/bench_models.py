"""Benchmarks of the model tools, each against a named baseline measured in the same run.

1. ``risk_metrics`` on the 20-position demo portfolio over its full history (lookback 10,000
   days): p50/p95 latency, against a plain numpy historical VaR of the same portfolio computed
   from one SQL read of prices (the overhead of our layer: feature reads, inputs, every method).
2. PD batch scoring of 1,000,000 synthetic loans (fields drawn from the German credit table):
   rows/s of the scorecard, against an sklearn one-hot + logistic-regression pipeline fitted on
   the same training loans.

Run after ``sightline demo``:  ``python -m evals.bench_models [--runs 20] [--rows 1000000]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np


def _p(values: list[float], q: float) -> float:
    return float(np.quantile(np.asarray(values), q))


def numpy_historical_var(con: Any, confidence: float) -> float:
    """Baseline: portfolio historical VaR from raw prices with numpy only."""
    positions = con.execute(
        "SELECT ticker, quantity FROM positions WHERE portfolio = 'DEMO' "
        "AND as_of = (SELECT max(as_of) FROM positions WHERE portfolio = 'DEMO') ORDER BY ticker"
    ).fetchall()
    tickers = [t for t, _ in positions]
    long = con.execute(
        "SELECT date, ticker, adj_close FROM prices WHERE ticker IN (SELECT UNNEST(?)) "
        "ORDER BY date",
        [[*tickers, "^GSPC"]],
    ).df()
    frame = long.pivot(index="date", columns="ticker", values="adj_close").sort_index()
    prices = frame[tickers].to_numpy(dtype=np.float64)
    last = prices[-1]
    values = np.array([q for _, q in positions]) * last
    w = values / values.sum()
    simple = prices[1:] / prices[:-1] - 1.0
    ok = ~np.isnan(simple).any(axis=1) & ~np.isnan(frame["^GSPC"].to_numpy()[1:])
    returns = simple[ok] @ w
    return -float(np.quantile(returns, 1.0 - confidence))


def bench_risk(con: Any, registry: Any, runs: int) -> dict[str, float]:
    from tools.risk import risk_metrics

    args = {"portfolio": "DEMO", "confidence": 0.99, "lookback_days": 10000}
    ours, base = [], []
    out = risk_metrics(con, registry, args)  # warm-up (imports, caches)
    reference = numpy_historical_var(con, 0.99)
    for _ in range(runs):
        t0 = time.perf_counter()
        out = risk_metrics(con, registry, args)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        reference = numpy_historical_var(con, 0.99)
        base.append(time.perf_counter() - t0)
    return {
        "days": out["window"]["days"],
        "var_historical_ours": out["values"]["var_historical"],
        "var_historical_numpy": reference,
        "ours_p50_s": statistics.median(ours),
        "ours_p95_s": _p(ours, 0.95),
        "numpy_p50_s": statistics.median(base),
        "numpy_p95_s": _p(base, 0.95),
        "ratio_p95": _p(ours, 0.95) / _p(base, 0.95),
    }


def synthetic_loans(con: Any, rows: int, seed: int = 2026) -> Any:
    """``rows`` loans whose fields are drawn independently from the loans table's columns."""
    import pandas as pd

    from tools.scorecard import FIELDS

    real = con.execute("SELECT * FROM loans ORDER BY loan_id").df()
    rng = np.random.default_rng(seed)
    return pd.DataFrame({f: real[f].to_numpy()[rng.integers(0, len(real), rows)] for f in FIELDS})


def bench_pd(con: Any, registry: Any, rows: int) -> dict[str, float]:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from tools.credit import loans_frame, split
    from tools.scorecard import CATEGORICAL, NUMERIC, probability

    card = registry.artefact(registry.approved("pd"))["scorecard"]
    batch = synthetic_loans(con, rows)
    t0 = time.perf_counter()
    ours = probability(card, batch)
    ours_s = time.perf_counter() - t0

    frame = loans_frame(con)
    train, _ = split(frame, registry.approved("pd").params)
    baseline = make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), list(NUMERIC)),
                ("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
            ]
        ),
        LogisticRegression(max_iter=2000),
    )
    baseline.fit(frame.iloc[train], frame["defaulted"].to_numpy()[train])
    t0 = time.perf_counter()
    theirs = baseline.predict_proba(batch)[:, 1]
    base_s = time.perf_counter() - t0
    return {
        "rows": rows,
        "ours_s": ours_s,
        "ours_rows_per_s": rows / ours_s,
        "sklearn_pipeline_s": base_s,
        "sklearn_rows_per_s": rows / base_s,
        "ratio_throughput": (rows / ours_s) / (rows / base_s),
        "mean_pd_ours": float(ours.mean()),
        "mean_pd_sklearn": float(theirs.mean()),
    }


def main() -> None:
    from app.runtime import Runtime
    from app.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rt = Runtime(load_settings())
    with rt.warehouse.reader() as con:
        risk = bench_risk(con, rt.registry, args.runs)
        print(
            f"risk_metrics DEMO portfolio, {risk['days']:,} days, {args.runs} runs: "
            f"p50 {risk['ours_p50_s'] * 1000:.0f} ms, p95 {risk['ours_p95_s'] * 1000:.0f} ms; "
            f"numpy historical VaR p50 {risk['numpy_p50_s'] * 1000:.0f} ms, "
            f"p95 {risk['numpy_p95_s'] * 1000:.0f} ms; ratio (p95) {risk['ratio_p95']:.1f}x; "
            f"VaR ours {risk['var_historical_ours']:.6f} vs numpy "
            f"{risk['var_historical_numpy']:.6f}"
        )
        pd_bench = bench_pd(con, rt.registry, args.rows)
        print(
            f"PD scoring {pd_bench['rows']:,} synthetic loans: scorecard "
            f"{pd_bench['ours_rows_per_s']:,.0f} rows/s ({pd_bench['ours_s']:.2f} s); sklearn "
            f"one-hot+LR pipeline {pd_bench['sklearn_rows_per_s']:,.0f} rows/s "
            f"({pd_bench['sklearn_pipeline_s']:.2f} s); ratio {pd_bench['ratio_throughput']:.2f}x"
        )


if __name__ == "__main__":
    main()
