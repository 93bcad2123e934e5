"""Columnar fast path for quotes: the engine's quote policy applied to whole arrays at once.

``StreamingEngine.process`` pays Python overhead per event; a feed handler that already holds
arrays (a decoded market-data packet, a Parquet batch) calls ``process_quote_arrays`` instead.
Same policy, same state, same values as feeding the events one by one (tested): per ticker, a
quote must be newer than the last accepted one; an equal timestamp is a duplicate when the
values match, else a conflict; older is late.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from features.events import Quote
from features.values import FeatureValue

if TYPE_CHECKING:
    import numpy as np

    from features.streaming import StreamingEngine

_NONE = -(2**62)  # "no previous quote" in microseconds
_LABELS = ("accepted", "unknown_entity", "invalid", "late", "duplicate", "conflict")


def process_quote_arrays(
    engine: StreamingEngine,
    tickers: Sequence[str] | np.ndarray,
    ts: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    bid_size: np.ndarray,
    ask_size: np.ndarray,
    *,
    emit: bool = False,
) -> list[FeatureValue]:
    """Apply a batch of quotes given as arrays (arrival order); return values when ``emit``."""
    import numpy as np
    import pandas as pd

    engine._close_round()  # quotes buffered by process() come first
    source = engine.sources.get("quotes")
    if source is None or len(ts) == 0:
        return []
    names = np.asarray(tickers, dtype=object)
    stamps = np.asarray(ts, dtype="datetime64[us]")
    micros = stamps.astype(np.int64)
    fields = [np.asarray(a, dtype=np.float64) for a in (bid, ask, bid_size, ask_size)]
    b, a, bs, as_ = fields
    n = len(micros)

    codes, uniques = pd.factorize(names)
    known = np.array([engine._known(t) for t in uniques], dtype=bool)[codes]
    finite = np.isfinite(b) & np.isfinite(a) & np.isfinite(bs) & np.isfinite(as_)
    with np.errstate(invalid="ignore"):
        valid = known & finite & (b > 0) & (a >= b) & (bs >= 0) & (as_ >= 0)
    seeds = [engine.last_quote.get(t) for t in uniques]
    seed_us = np.array([_micros(q.ts) if q is not None else _NONE for q in seeds], dtype=np.int64)

    # Sort by ticker, then arrival: each ticker's quotes become one contiguous group.
    order = np.lexsort((np.arange(n), codes))
    c, t, v = codes[order], micros[order], valid[order]
    first = np.r_[True, c[1:] != c[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    # Running max of earlier valid timestamps in the group (rejected ones never exceed it, so
    # it equals the last accepted timestamp), seeded with the ticker's last accepted quote.
    base = int(t.min()) - 1
    span = int(t.max()) - base + 1
    if span * (int(c.max()) + 1) < 2**62:
        key = c.astype(np.int64) * span + np.where(v, t - base, 0)
        running = np.maximum.accumulate(key)
        before = np.r_[np.int64(-1), running[:-1]]
        before_t = np.where(first | (before - c * span <= 0), _NONE, before - c * span + base)
    else:  # timestamps too far apart for the packed key: do it group by group
        before_t = np.full(n, _NONE, dtype=np.int64)
        for start, stop in _groups(first):
            seen = np.where(v[start:stop], t[start:stop], _NONE)
            before_t[start + 1 : stop] = np.maximum.accumulate(seen)[:-1]
    prev = np.maximum(before_t, seed_us[c])
    accepted = v & (t > prev)

    # Label every quote like the scalar path; count; keep the last rejections as examples.
    k = known[order]
    label = np.where(accepted, 0, np.where(~k, 1, np.where(~v, 2, np.where(t < prev, 3, 4))))
    last_acc = np.maximum.accumulate(np.where(accepted, np.arange(n), -1))
    for i in np.flatnonzero(label == 4):  # equal timestamp: duplicate or conflict
        j = last_acc[i - 1] if i > 0 else -1
        if j >= group_start[i]:
            ref = tuple(float(f[order[j]]) for f in fields)
        else:
            q = seeds[c[i]]
            ref = (q.bid, q.ask, q.bid_size, q.ask_size) if q is not None else ()
        if ref != tuple(float(f[order[i]]) for f in fields):
            label[i] = 5
    counts = np.bincount(label, minlength=len(_LABELS))
    for code, reason in enumerate(_LABELS):
        if counts[code]:
            engine.stats[reason] += int(counts[code])
    in_arrival = np.empty(n, dtype=np.int64)
    in_arrival[order] = label
    for i in np.flatnonzero(in_arrival != 0)[-(engine.rejected.maxlen or 0) :]:
        engine.rejected.append(
            (
                _LABELS[in_arrival[i]],
                {
                    "kind": "quote",
                    "ticker": str(names[i]),
                    "ts": str(stamps[i]),
                    "bid": float(b[i]),
                    "ask": float(a[i]),
                    "bid_size": float(bs[i]),
                    "ask_size": float(as_[i]),
                },
            )
        )

    # Accepted quotes in rounds: round r holds each ticker's r-th quote of this batch.
    acc = order[accepted]
    if len(acc) == 0:
        return []
    ac = codes[acc]
    used = np.unique(ac)
    row_of = np.full(len(uniques), -1, dtype=np.int64)
    row_of[used] = source.entity_rows([str(uniques[u]) for u in used])
    a_first = np.r_[True, ac[1:] != ac[:-1]]
    a_start = np.maximum.accumulate(np.where(a_first, np.arange(len(acc)), 0))
    rank = np.arange(len(acc)) - a_start
    by_round = np.argsort(rank, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(rank))]
    out: list[FeatureValue] = []
    defs = source.definitions
    for r in range(len(bounds) - 1):
        pick = acc[by_round[bounds[r] : bounds[r + 1]]]
        inputs = {"bid": b[pick], "ask": a[pick], "bid_size": bs[pick], "ask_size": as_[pick]}
        rows = row_of[codes[pick]]
        _, values = source.apply_rows(rows, stamps[pick].astype(object), inputs)
        if emit:
            for ri, ci in zip(*np.nonzero(~np.isnan(values)), strict=True):
                when = stamps[pick[ri]].astype(datetime)
                d = defs[ci]
                out.append(
                    FeatureValue(
                        str(names[pick[ri]]), d.name, d.version, when, float(values[ri, ci])
                    )
                )
    # The last accepted quote of each ticker becomes its reference for the next batch.
    last_idx = acc[np.r_[ac[1:] != ac[:-1], True]]
    for i in last_idx:
        engine.last_quote[str(names[i])] = Quote(
            str(names[i]),
            stamps[i].astype(datetime),
            float(b[i]),
            float(a[i]),
            float(bs[i]),
            float(as_[i]),
        )
    return out


def _micros(value: datetime) -> int:
    import numpy as np

    return int(np.datetime64(value, "us").astype(np.int64))


def _groups(first: np.ndarray) -> list[tuple[int, int]]:
    import numpy as np

    starts = np.flatnonzero(first)
    stops = np.r_[starts[1:], len(first)]
    return list(zip(starts.tolist(), stops.tolist(), strict=True))
