"""Batch benchmark: every rolling bar feature, our three batch engines vs pandas and polars.

    python -m evals.bench_features_batch                 # 2,000 tickers x 5,000 days = 10M rows
    python -m evals.bench_features_batch --tickers 200 --days 2000   # quick
    python -m evals.bench_features_batch --sides arrays,polars       # pandas always runs

Every side reads the same synthetic Parquet file, computes log return, realized vol 20d/60d, EWMA
vol, max drawdown 252d, beta 252d, Amihud 20d and ADV 20d, and writes a wide Parquet file: the
arrays engine (``features.engines.arrays``: compiled kernels over sorted histories, the
default), the DuckDB SQL engine (``features.engines.sql``), the Spark engine
(``features.engines.spark``, ``local[N]``), idiomatic polars (``rolling_*().over()``) and pandas
groupby-rolling (the baseline). Each side runs in its own subprocess so its peak memory
(ru_maxrss, the JVM's for Spark) is its own. The parent checks every other side's output against
pandas (1e-9 relative, same missing cells) and prints time, CPU and peak-memory ratios side by
side, with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BAR_FEATURES = [
    "log_return_1d",
    "realized_vol_20d",
    "realized_vol_60d",
    "ewma_vol",
    "max_drawdown_252d",
    "beta_252d",
    "amihud_illiquidity_20d",
    "adv_usd_20d",
]
MARKET = "^GSPC"


def make_data(path: Path, tickers: int, days: int, seed: int = 0) -> int:
    """Synthetic daily bars (SYNTHETIC, labelled by ticker prefix SYN) written to Parquet."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    names = [MARKET] + [f"SYN{i:04d}" for i in range(tickers - 1)]
    dates = np.arange(np.datetime64("2000-01-03"), np.datetime64("2000-01-03") + days)
    writer = None
    for start in range(0, tickers, 100):
        block = names[start : start + 100]
        n = len(block)
        returns = rng.normal(0.0002, 0.02, (n, days))
        prices = 50.0 * np.exp(np.cumsum(returns, axis=1))
        volume = rng.integers(1_000, 5_000_000, (n, days)).astype("float64")
        close = prices * rng.uniform(0.5, 2.0, (n, 1))
        table = pa.table(
            {
                "ticker": pa.array(np.repeat(block, days)).dictionary_encode(),
                "date": np.tile(dates, n),
                "adj_close": prices.ravel(),
                "close": close.ravel(),
                "volume": volume.ravel(),
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    return tickers * days


def run_sql(data: Path, out: Path, threads: int) -> None:
    import duckdb

    from features.definitions import select
    from features.engines.sql import feature_query

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    # Insertion order stays preserved (the default): the streaming windows read the rows in
    # the order the sort gave them (features.engines.sql checks it on every row).
    con.execute(f"CREATE VIEW prices AS SELECT * FROM read_parquet('{data}')")
    query = feature_query("bars", select(BAR_FEATURES), wide=True)
    con.execute(f"COPY ({query}) TO '{out}' (FORMAT parquet)")


def run_arrays(data: Path, out: Path, threads: int) -> None:
    import duckdb

    from features.definitions import select
    from features.engines.arrays import write_wide_parquet

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute(f"CREATE VIEW prices AS SELECT * FROM read_parquet('{data}')")
    write_wide_parquet(con, "bars", select(BAR_FEATURES), str(out))


def run_pandas(data: Path, out: Path) -> None:
    import numpy as np
    import pandas as pd

    # The ticker stays categorical, as read_parquet gives a dictionary column: grouping on its
    # codes is what a pandas user gets by default, and faster than on strings.
    df = pd.read_parquet(data)
    df = df.sort_values(["ticker", "date"], ignore_index=True)
    index_rows = df["ticker"].str.startswith("^")
    df.loc[index_rows, ["close", "volume"]] = np.nan
    g = df.groupby("ticker", sort=False)
    r = np.log(df["adj_close"] / g["adj_close"].shift(1))
    df["log_return_1d"] = r
    rg = r.groupby(df["ticker"], sort=False)
    ann = math.sqrt(252)
    df["realized_vol_20d"] = rg.rolling(20, min_periods=20).std().droplevel(0) * ann
    df["realized_vol_60d"] = rg.rolling(60, min_periods=60).std().droplevel(0) * ann
    ewm = (r * r).groupby(df["ticker"], sort=False).ewm(alpha=0.06, adjust=False, min_periods=20)
    df["ewma_vol"] = np.sqrt(ewm.mean().droplevel(0) * 252)
    peak = g["adj_close"].rolling(252, min_periods=1).max().droplevel(0)
    drawdown = df["adj_close"] / peak - 1
    dg = drawdown.groupby(df["ticker"], sort=False)
    df["max_drawdown_252d"] = dg.rolling(252, min_periods=252).min().droplevel(0)
    market = df.loc[df["ticker"] == MARKET].set_index("date")["log_return_1d"]
    df["m"] = df["date"].map(market)

    def beta(frame: pd.DataFrame) -> pd.Series:
        y, x = frame["log_return_1d"], frame["m"]
        x = x.where(y.notna())  # pairs only
        cov = y.rolling(252, min_periods=200).cov(x)
        var = x.rolling(252, min_periods=200).var()
        return cov / var

    df["beta_252d"] = g[["log_return_1d", "m"]].apply(beta).droplevel(0)
    dollar = df["close"] * df["volume"]
    illiq = (r.abs() / dollar * 1e6).groupby(df["ticker"], sort=False)
    df["amihud_illiquidity_20d"] = illiq.rolling(20, min_periods=20).mean().droplevel(0)
    adv = dollar.groupby(df["ticker"], sort=False)
    df["adv_usd_20d"] = adv.rolling(20, min_periods=20).mean().droplevel(0)
    out_frame = df.rename(columns={"ticker": "entity", "date": "ts"})
    out_frame[["entity", "ts", *BAR_FEATURES]].to_parquet(out)


def run_polars(data: Path, out: Path) -> None:
    import polars as pl

    df = pl.read_parquet(data).sort(["ticker", "date"])
    index_rows = pl.col("ticker").cast(pl.String).str.starts_with("^")
    df = df.with_columns(
        pl.when(index_rows).then(None).otherwise(pl.col(c)).alias(c) for c in ("close", "volume")
    )
    r = (pl.col("adj_close") / pl.col("adj_close").shift(1)).log().over("ticker")
    df = df.with_columns(log_return_1d=r)
    market = df.filter(pl.col("ticker") == MARKET).select("date", m=pl.col("log_return_1d"))
    df = df.join(market, on="date", how="left", maintain_order="left")
    lr, m = pl.col("log_return_1d"), pl.col("m")
    dollar = pl.col("close") * pl.col("volume")
    ann = math.sqrt(252)
    peak = pl.col("adj_close").rolling_max(252, min_samples=1).over("ticker")
    pairs_m = pl.when(lr.is_not_null()).then(m)  # the market's variance over pairs only
    df = df.with_columns(
        realized_vol_20d=lr.rolling_std(20, min_samples=20).over("ticker") * ann,
        realized_vol_60d=lr.rolling_std(60, min_samples=60).over("ticker") * ann,
        ewma_vol=(
            (lr * lr).ewm_mean(alpha=0.06, adjust=False, min_samples=20).over("ticker") * 252
        ).sqrt(),
        max_drawdown_252d=(pl.col("adj_close") / peak - 1)
        .rolling_min(252, min_samples=252)
        .over("ticker"),
        beta_252d=(
            pl.rolling_cov(lr, m, window_size=252, min_samples=200)
            / pairs_m.rolling_var(252, min_samples=200)
        ).over("ticker"),
        amihud_illiquidity_20d=(lr.abs() / dollar * 1e6)
        .rolling_mean(20, min_samples=20)
        .over("ticker"),
        adv_usd_20d=dollar.rolling_mean(20, min_samples=20).over("ticker"),
    )
    df.rename({"ticker": "entity", "date": "ts"}).select(
        ["entity", "ts", *BAR_FEATURES]
    ).with_columns(pl.col("entity").cast(pl.String)).write_parquet(out)


def run_spark(data: Path, out: Path, threads: int) -> None:
    import duckdb

    from features.definitions import select
    from features.engines.spark import SparkEngine
    from features.sources import STAGED

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute(f"CREATE VIEW prices AS SELECT * FROM read_parquet('{data}')")
    engine = SparkEngine(master=f"local[{threads}]")
    spark = engine.session()
    spark.sparkContext.setLogLevel("ERROR")
    spark.conf.set("spark.sql.shuffle.partitions", str(4 * threads))
    engine.materialize(con, "bars", select(BAR_FEATURES), None)
    con.execute(f"COPY {STAGED} TO '{out}' (FORMAT parquet)")
    gateway = spark.sparkContext._gateway
    spark.stop()
    gateway.shutdown()
    gateway.proc.stdin.close()  # the JVM exits; waiting for it counts its CPU and memory
    gateway.proc.wait()


ENGINES = {"arrays": run_arrays, "sql": run_sql, "spark": run_spark}  # ours: (data, out, threads)
SIDES = (*ENGINES, "polars")


def child(side: str, data: Path, out: Path, threads: int) -> None:
    started = time.perf_counter()
    if side == "pandas":
        run_pandas(data, out)
    elif side == "polars":
        run_polars(data, out)
    else:
        ENGINES[side](data, out, threads)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # Spark's JVM
    peak_mb = max(usage.ru_maxrss, children.ru_maxrss) / 1024
    # CPU time (all threads, imports included) is what a loaded machine distorts least.
    cpu = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
    print(json.dumps({"side": side, "seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak_mb}))


def spawn(side: str, data: Path, out: Path, threads: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env["POLARS_MAX_THREADS"] = str(threads)
    cmd = [sys.executable, "-m", "evals.bench_features_batch", "--child", side]
    cmd += ["--data", str(data), "--out", str(out), "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(ours: Path, theirs: Path) -> dict[str, dict[str, float]]:
    """Per feature: worst relative difference and count of cells missing on one side only."""
    import duckdb

    con = duckdb.connect()
    out = {}
    for name in BAR_FEATURES:
        a, b = f'a."{name}"', f'b."{name}"'
        rel, one_sided, both = con.execute(
            f"SELECT MAX(ABS({a} - {b}) / GREATEST(ABS({a}), ABS({b}), 1e-300)) "
            f"FILTER (WHERE GREATEST(ABS({a}), ABS({b})) > 1e-12), "
            f"COUNT(*) FILTER (WHERE ({a} IS NULL OR isnan({a})) <> ({b} IS NULL OR isnan({b}))), "
            f"COUNT({a}) FROM read_parquet('{ours}') a JOIN read_parquet('{theirs}') b "
            "USING (entity, ts)"
        ).fetchall()[0]
        out[name] = {"max_rel_diff": float(rel or 0.0), "one_sided": int(one_sided), "n": both}
    return out


LABELS = {
    "arrays": "arrays engine (numba kernels)",
    "sql": "SQL engine (DuckDB)",
    "spark": "Spark engine (local)",
    "polars": "polars rolling().over()",
    "pandas": "pandas groupby-rolling",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=5000)
    parser.add_argument(
        "--threads", type=int, default=2, help="threads of every side but pandas (1)"
    )
    parser.add_argument(
        "--sides",
        default="arrays,sql,spark,polars",
        help="comma-separated sides to run (pandas, the baseline, always runs)",
    )
    parser.add_argument("--child", choices=[*SIDES, "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.out, args.threads)
        return
    others = [s for s in SIDES if s in args.sides.split(",")]
    results: dict[str, dict] = {}
    agreement: dict[str, dict[str, dict[str, float]]] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench_features_") as tmp:
        data = Path(tmp) / "bars.parquet"
        rows = make_data(data, args.tickers, args.days)
        print(f"{rows:,} synthetic rows ({args.tickers:,} tickers x {args.days:,} days)")
        if "arrays" in others:  # compile the kernels once (cached on disk, as after install)
            tiny = Path(tmp) / "tiny.parquet"
            make_data(tiny, 3, 300)
            spawn("arrays", tiny, Path(tmp) / "tiny_out.parquet", 1)
        for side in [*others, "pandas"]:
            threads = 1 if side == "pandas" else args.threads
            results[side] = spawn(side, data, Path(tmp) / f"{side}.parquet", threads)
            print(f"  {side}: {results[side]['seconds']:.1f} s", file=sys.stderr)
        for side in others:
            agreement[side] = compare(Path(tmp) / f"{side}.parquet", Path(tmp) / "pandas.parquet")
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min): before {load_before}, after {load_after}")
    theirs = results["pandas"]
    for side, r in results.items():
        threads = f" ({args.threads} threads)" if side != "pandas" else " (1 thread)"
        print(
            f"{LABELS[side] + threads:<42} {r['seconds']:7.1f} s (CPU {r['cpu_seconds']:6.1f} s), "
            f"peak {r['peak_mb']:8,.0f} MB"
        )
    for side in others:
        ours = results[side]
        worst = max(v["max_rel_diff"] for v in agreement[side].values())
        one_sided = sum(v["one_sided"] for v in agreement[side].values())
        print(
            f"{side}: speed-up over pandas {theirs['seconds'] / ours['seconds']:.2f}x "
            f"(CPU time {theirs['cpu_seconds'] / ours['cpu_seconds']:.2f}x); "
            f"peak memory ratio {ours['peak_mb'] / theirs['peak_mb']:.2f}; "
            f"worst relative difference {worst:.2e}; cells missing on one side only {one_sided}"
        )
        for name, v in agreement[side].items():
            print(
                f"  {name:<24} n={v['n']:>10,}  max rel diff {v['max_rel_diff']:.1e}  "
                f"one-sided {v['one_sided']}"
            )
    if "arrays" in results and "polars" in results:
        a, p = results["arrays"], results["polars"]
        print(
            f"arrays vs polars: {p['seconds'] / a['seconds']:.2f}x wall, "
            f"{p['cpu_seconds'] / a['cpu_seconds']:.2f}x CPU"
        )
    print(
        json.dumps(
            {"rows": rows, "load": [load_before, load_after], **results, "agreement": agreement}
        )
    )


if __name__ == "__main__":
    main()
