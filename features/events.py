"""Events the streaming engine consumes and where they come from (warehouse replay, synthetic load).

Four event kinds, one per source: daily ``Bar`` (from ``prices``), top-of-book ``Quote``,
``Filing`` line items (from ``fundamentals``, dated by filing date) and ``MacroObs`` (from
``macro``). No quotes ship with the demo data: ``synthetic_quotes`` generates a clearly labelled
random walk (tickers ``SYN0000``...) for load tests and demos.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

SYNTHETIC_PREFIX = "SYN"  # every synthetic ticker starts with this: never mistaken for real data


@dataclass(frozen=True)
class Bar:
    """One daily bar: adjusted close always, raw close and volume where known."""

    ticker: str
    date: date
    adj_close: float
    close: float | None = None
    volume: float | None = None


@dataclass(frozen=True)
class Quote:
    """One top-of-book quote."""

    ticker: str
    ts: datetime
    bid: float
    ask: float
    bid_size: float
    ask_size: float


@dataclass(frozen=True)
class Filing:
    """One fundamentals line item, public from ``filing_date``."""

    ticker: str
    filing_date: date
    period_end: date
    item: str
    value: float


@dataclass(frozen=True)
class MacroObs:
    """One observation of a macro series."""

    series: str
    date: date
    value: float


Event = Bar | Quote | Filing | MacroObs
KINDS: dict[str, type] = {"bar": Bar, "quote": Quote, "filing": Filing, "macro": MacroObs}


def event_to_dict(event: Event) -> dict[str, object]:
    """JSON-ready dict with a ``kind`` field (dates as ISO text)."""
    kind = next(k for k, cls in KINDS.items() if isinstance(event, cls))
    out: dict[str, object] = {"kind": kind}
    for key, value in asdict(event).items():
        out[key] = value.isoformat() if isinstance(value, date) else value
    return out


def event_from_dict(data: dict[str, object]) -> Event:
    """Inverse of ``event_to_dict``."""
    fields = dict(data)
    cls = KINDS[str(fields.pop("kind"))]
    for key in ("date", "filing_date", "period_end"):
        if key in fields:
            fields[key] = date.fromisoformat(str(fields[key]))
    if "ts" in fields:
        fields["ts"] = datetime.fromisoformat(str(fields["ts"]))
    return cls(**fields)  # type: ignore[no-any-return]


def _num(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def bars_from_prices(
    con: duckdb.DuckDBPyConnection,
    tickers: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[Bar]:
    """Replay of the ``prices`` table as bars, in date order."""
    clauses: list[str] = ["TRUE"]
    params: list[object] = []
    if tickers:
        clauses.append("ticker IN (SELECT UNNEST(?))")
        params.append(tickers)
    if start:
        clauses.append("date >= ?")
        params.append(start)
    if end:
        clauses.append("date <= ?")
        params.append(end)
    rows = con.execute(
        f"SELECT ticker, date, adj_close, close, volume FROM prices WHERE {' AND '.join(clauses)} "
        "ORDER BY date, ticker",
        params,
    ).fetchall()
    return [Bar(t, d, float(a), _num(c), _num(v)) for t, d, a, c, v in rows]


def filings_from_fundamentals(con: duckdb.DuckDBPyConnection) -> list[Filing]:
    """Replay of the ``fundamentals`` table as line items, in filing-date order."""
    rows = con.execute(
        "SELECT ticker, filing_date, period_end, item, value FROM fundamentals "
        "ORDER BY filing_date, ticker, period_end, item"
    ).fetchall()
    return [Filing(t, f, p, i, float(v)) for t, f, p, i, v in rows]


def macro_from_table(con: duckdb.DuckDBPyConnection, series: list[str]) -> list[MacroObs]:
    """Replay of the named ``macro`` series, in date order."""
    rows = con.execute(
        "SELECT series, date, value FROM macro WHERE series IN (SELECT UNNEST(?)) "
        "ORDER BY date, series",
        [series],
    ).fetchall()
    return [MacroObs(s, d, float(v)) for s, d, v in rows]


def synthetic_tickers(n: int) -> list[str]:
    """``SYN0000``, ``SYN0001``, ... (labelled synthetic)."""
    return [f"{SYNTHETIC_PREFIX}{i:04d}" for i in range(n)]


def synthetic_quotes(
    n_entities: int,
    n_events: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    events_per_second: float = 100_000.0,
) -> Iterator[Quote]:
    """SYNTHETIC top-of-book quotes: a random walk per ticker, one quote per tick.

    Ticks are spaced ``1/events_per_second`` apart; tickers are drawn at random, so each ticker's
    timestamps increase. Mid prices walk from 100 with 2 bps steps; spreads are 1-20 bps; sizes
    100-5,000 shares.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    t0 = start or datetime(2024, 1, 2, 9, 30)
    tickers = synthetic_tickers(n_entities)
    mid = np.full(n_entities, 100.0)
    chunk = 65_536
    for offset in range(0, n_events, chunk):
        size = min(chunk, n_events - offset)
        who = rng.integers(0, n_entities, size)
        steps = rng.normal(0.0, 2e-4, size)
        spreads = rng.uniform(1e-4, 2e-3, size)
        bid_sizes = rng.integers(1, 50, size) * 100.0
        ask_sizes = rng.integers(1, 50, size) * 100.0
        for k in range(size):
            i = int(who[k])
            mid[i] *= math.exp(steps[k])
            half = mid[i] * spreads[k] / 2
            micros = int((offset + k) * 1e6 / events_per_second)
            yield Quote(
                tickers[i],
                t0 + timedelta(microseconds=micros),
                round(mid[i] - half, 6),
                round(mid[i] + half, 6),
                float(bid_sizes[k]),
                float(ask_sizes[k]),
            )
