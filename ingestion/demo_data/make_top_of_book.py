"""Build tool: SYNTHETIC top-of-book quotes and trades for one day, derived from the demo prices.

For each demo stock, mid prices walk (seeded, 3 bps steps) from its last demo close over the
next business day, 09:30-16:00, one quote every 3 minutes; spreads 1-8 bps; one trade after
every fourth quote at the bid or the ask. Every row says ``source = synthetic:demo-prices``: no
real quotes ship with the demo. Run ``python ingestion/demo_data/make_top_of_book.py`` to rebuild
``synthetic_top_of_book.csv``; the product only reads the CSV.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("synthetic_top_of_book.csv")
SOURCE = "synthetic:demo-prices"
STEP_MINUTES = 3


def main() -> None:
    """Write the CSV next to this file."""
    from ingestion.demo_sources import demo_frames

    prices = demo_frames()["prices"]
    last_day = prices["date"].max()
    closes = prices[(prices["date"] == last_day) & ~prices["ticker"].str.startswith("^")]
    day = (last_day + timedelta(days=1)).to_pydatetime()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    open_at = datetime(day.year, day.month, day.day, 9, 30)
    steps = int(6.5 * 60 / STEP_MINUTES) + 1
    rng = np.random.default_rng(17)
    rows = []
    for ticker, close in sorted(zip(closes["ticker"], closes["adj_close"], strict=True)):
        mid = float(close)
        for k in range(steps):
            mid *= math.exp(rng.normal(0, 3e-4))
            half = mid * rng.uniform(1e-4, 8e-4) / 2
            ts = open_at + timedelta(minutes=STEP_MINUTES * k, seconds=int(rng.integers(0, 60)))
            bid, ask = round(mid - half, 4), round(mid + half, 4)
            rows.append(
                {"kind": "quote", "ticker": ticker, "ts": ts.isoformat(), "bid": bid, "ask": ask,
                 "bid_size": int(rng.integers(1, 40)) * 100,
                 "ask_size": int(rng.integers(1, 40)) * 100, "source": SOURCE}
            )  # fmt: skip
            if k % 4 == 3:
                rows.append(
                    {"kind": "trade", "ticker": ticker,
                     "ts": (ts + timedelta(seconds=1)).isoformat(),
                     "price": bid if rng.random() < 0.5 else ask,
                     "size": int(rng.integers(1, 20)) * 100, "source": SOURCE}
                )  # fmt: skip
    rows.sort(key=lambda r: (r["ts"], r["ticker"], r["kind"]))
    fields = [
        "kind",
        "ticker",
        "ts",
        "bid",
        "ask",
        "bid_size",
        "ask_size",
        "price",
        "size",
        "source",
    ]
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
