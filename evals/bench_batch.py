"""Benchmark: the overnight batch and the morning report, time per stage, demo vs a 10x book.

Baseline: the demo book (DEMO + INCOME from ``positions_history.csv``, 1,000 loans) as of
2020-03-16. Compared with it in the same run: a synthetic 10x book — 20 portfolios (DEMO and
INCOME plus 18 copies of DEMO with seeded random quantity factors 0.5-1.5, labelled ``SYN``)
and 10,000 loans (the German-credit rows repeated 10 times under new loan ids). Both run on
private copies of a demo data dir. Prints seconds per stage and the 10x/demo ratio, with the load.

    .venv/bin/python -m evals.bench_batch --home DEMO_HOME      # an existing `sightline demo` dir
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from app.batch.run import run_batch
from app.reports.morning import write_morning_report
from app.runtime import Runtime
from app.settings import Settings
from ingestion.tables import load_table
from tools import batch_store

HISTORY = Path(__file__).resolve().parents[1] / "ingestion" / "demo_data" / "positions_history.csv"
AS_OF = date(2020, 3, 16)


def _prepare(source: Path, target: Path, scale: int) -> Runtime:
    shutil.copytree(source, target)
    os.chmod(target, 0o700)
    rt = Runtime(Settings(home=target))
    load_table(rt.warehouse, "positions", HISTORY, loaded_by="bench")
    if scale > 1:
        book = pd.read_csv(HISTORY, parse_dates=["as_of"])
        demo = book[(book.portfolio == "DEMO") & (book.as_of == "2020-03-13")]
        rng = np.random.default_rng(16)
        copies = [
            demo.assign(portfolio=f"SYN{i:02d}",
                        quantity=(demo.quantity * rng.uniform(0.5, 1.5, len(demo))).round(-1))
            for i in range(1, 2 * scale - 1)
        ]  # fmt: skip
        frame = pd.concat(copies, ignore_index=True)
        frame["as_of"] = frame["as_of"].dt.date
        load_table(rt.warehouse, "positions", frame, loaded_by="bench", source_name="synthetic")
        with rt.warehouse.reader() as con:
            loans = con.execute("SELECT * FROM loans ORDER BY loan_id").df()
        more = pd.concat(
            [loans.assign(loan_id=loans.loan_id + k * 1000) for k in range(1, scale)],
            ignore_index=True,
        )
        load_table(rt.warehouse, "loans", more, loaded_by="bench", source_name="synthetic loans")
    return rt


def _measure(rt: Runtime, out: Path) -> dict[str, float]:
    started = time.perf_counter()
    outcome = run_batch(rt, AS_OF, user="admin", say=lambda _m: None)
    total = time.perf_counter() - started
    if outcome.exit_code != 0 or outcome.run_id is None:
        raise SystemExit(outcome.message)
    with rt.warehouse.reader() as con:
        stages = dict(batch_store.get_run(con, outcome.run_id).stages)
        counts = batch_store.result_counts(con, outcome.run_id)
    started = time.perf_counter()
    write_morning_report(rt, AS_OF, out, user="admin")
    stages["report (html+pdf)"] = time.perf_counter() - started
    stages["publish + start"] = total - sum(stages.values()) + stages["report (html+pdf)"]
    stages["batch total"] = total
    stages["positions"] = float(counts["batch_holdings"])
    stages["loans"] = float(counts["batch_pd"])
    return stages


def main() -> None:
    """Run both books and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="a data dir with the demo loaded")
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        base = _measure(_prepare(args.home, root / "demo", 1), root / "r1")
        big = _measure(_prepare(args.home, root / "big", args.scale), root / "r10")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'stage':<20} {'demo s':>9} {f'{args.scale}x s':>9} {'ratio':>7}")
    for stage in base:
        if stage in ("positions", "loans"):
            continue
        a, b = base[stage], big.get(stage, 0.0)
        print(f"{stage:<20} {a:9.2f} {b:9.2f} {b / a if a else float('nan'):7.2f}")
    print(f"{'positions held':<20} {base['positions']:9.0f} {big['positions']:9.0f}")
    print(f"{'loans scored':<20} {base['loans']:9.0f} {big['loans']:9.0f}")


if __name__ == "__main__":
    main()
