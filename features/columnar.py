"""Columnar ingestion: bars and quotes as arrays, the event policy checked without Python loops.

A feed handler that holds arrays (a decoded market-data packet, a Parquet batch) calls
``process_bar_arrays`` / ``process_quote_arrays``; ``StreamingEngine.process`` converts each run
of consecutive ``Bar`` / ``Quote`` objects to arrays and calls them too, so there is one policy
and one state. The policy (see ``features.streaming``) becomes array operations:

* per ticker, the events are sorted by (ticker, arrival) once; a running maximum over that order
  gives each event the latest accepted timestamp / date before it;
* the open date of a daily source is the running maximum of the dates accepted before;
* rejected events (rare) are then labelled one by one (duplicate, conflict or late), as the
  event-by-event rules say, and the last 100 kept in ``engine.rejected``.

The policy state is arrays too (in the source's state, so snapshots carry it): per ticker, the
last accepted quote; the last applied bar; the bar buffered for the open date.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from features.definitions import MARKET_TICKER
from features.events import Bar, Quote
from features.state import DAY_US, GAP_DAYS, stamp_to_python
from features.values import FeatureValue

if TYPE_CHECKING:
    import numpy as np

    from features.state import SourceState, StreamState

_NONE = -(2**62)  # "no previous event" (microseconds or days)
_LABELS = ("accepted", "unknown_entity", "invalid", "late", "duplicate", "conflict")
_UNIX_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()


# ------------------------------------------------------------------------------------- quotes
def process_quote_arrays(
    engine: StreamState,
    tickers: Sequence[str] | np.ndarray,
    ts: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    bid_size: np.ndarray,
    ask_size: np.ndarray,
    *,
    emit: bool = False,
) -> list[FeatureValue]:
    """Apply a batch of quotes given as arrays (arrival order); return values when ``emit``.

    Per ticker a quote must be newer than the last accepted one; an equal timestamp is a
    duplicate when the values match, else a conflict; older is late.
    """
    import numpy as np

    source = engine.sources.get("quotes")
    if source is None or len(ts) == 0:
        return []
    micros = np.asarray(ts, dtype="datetime64[us]").astype(np.int64)
    fields = [np.asarray(x, dtype=np.float64) for x in (bid, ask, bid_size, ask_size)]
    b, a, bs, as_ = fields
    codes, known_u, row_u, new_names = _codes(engine, source, tickers)
    last_ts = source.state("@quote_ts", (), np.nan)
    last_q = source.state("@quote", (4,), np.nan)
    seed_us = np.full(len(row_u), _NONE, dtype=np.int64)
    has = row_u >= 0
    seed = last_ts[row_u[has]]
    seed_us[has] = np.where(np.isnan(seed), _NONE, seed).astype(np.int64)

    known = known_u[codes]
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(np.stack(fields)).all(axis=0)
        valid = known & finite & (b > 0) & (a >= b) & (bs >= 0) & (as_ >= 0)
    distinct = len(row_u) == len(codes)
    if distinct:  # every ticker once (codes are 0, 1, ...): no grouping
        order = c = codes
        first = np.ones(len(codes), dtype=bool)
        t, v, prev = micros, valid, seed_us
    else:
        order, c, first = _grouped(codes)
        t, v = micros[order], valid[order]
        prev = np.maximum(_before_max(c, first, t, v), seed_us[c])
    accepted = v & (t > prev)
    if accepted.all():  # the usual case: nothing to label
        engine.stats["accepted"] += len(codes)
        return _apply_quotes(
            source, codes, row_u, new_names, order, micros, fields, emit, distinct=distinct
        )

    # Label like the event-by-event rules; equal timestamps: duplicate or conflict.
    label = np.where(
        accepted, 0, np.where(~known[order], 1, np.where(~v, 2, np.where(t < prev, 3, 4)))
    )
    tie = np.flatnonzero(label == 4)
    if len(tie):
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(c)), 0))
        last_acc = np.maximum.accumulate(np.where(accepted, np.arange(len(c)), -1))
        for i in tie:
            j = last_acc[i - 1] if i > 0 else -1
            if j >= group_start[i]:
                ref = [float(f[order[j]]) for f in fields]
            else:
                ref = [float(x) for x in last_q[row_u[c[i]]]]
            if not _same(ref, [float(f[order[i]]) for f in fields]):
                label[i] = 5
    in_arrival = np.empty_like(label)
    in_arrival[order] = label

    def quote_dict(i: int) -> dict[str, object]:  # event_to_dict(Quote(...)), built directly
        when = stamp_to_python(int(micros[i]), daily=False)
        return {
            "kind": "quote",
            "ticker": str(tickers[i]),
            "ts": when.isoformat(),
            "bid": float(b[i]),
            "ask": float(a[i]),
            "bid_size": float(bs[i]),
            "ask_size": float(as_[i]),
        }

    _count(engine, in_arrival, quote_dict)
    return _apply_quotes(source, codes, row_u, new_names, order[accepted], micros, fields, emit)


def _apply_quotes(
    source: SourceState,
    codes: np.ndarray,
    row_u: np.ndarray,
    new_names: list[str],
    acc: np.ndarray,
    micros: np.ndarray,
    fields: list[np.ndarray],
    emit: bool,
    *,
    distinct: bool = False,
) -> list[FeatureValue]:
    """Apply accepted quotes ``acc`` (grouped by ticker, arrival order within)."""
    import numpy as np

    if len(acc) == 0:
        return []
    if distinct:  # every quote, each of another ticker: no gathers
        rows = _register(source, new_names, row_u, codes)[codes]
        source.state("@quote_ts", (), np.nan)[rows] = micros
        source.state("@quote", (4,), np.nan)[rows] = np.column_stack(fields)
        b, a, bs, as_ = fields
        inputs = {"bid": b, "ask": a, "bid_size": bs, "ask_size": as_}
        return source.apply_events(rows, micros, inputs, emit=emit, distinct=True)
    rows_u = _register(source, new_names, row_u, codes[acc])
    rows = rows_u[codes[acc]]
    ends = np.append(rows[1:] != rows[:-1], True)
    last = acc[ends]
    source.state("@quote_ts", (), np.nan)[rows[ends]] = micros[last]
    source.state("@quote", (4,), np.nan)[rows[ends]] = np.column_stack([f[last] for f in fields])
    b, a, bs, as_ = (f[acc] for f in fields)
    inputs = {"bid": b, "ask": a, "bid_size": bs, "ask_size": as_}
    return source.apply_events(rows, micros[acc], inputs, emit=emit, grouped=True)


def quotes_to_arrays(quotes: Sequence[Quote]) -> tuple:
    """Quote objects -> the arrays ``process_quote_arrays`` takes."""
    import numpy as np

    n = len(quotes)
    return (
        [q.ticker for q in quotes],
        np.array([q.ts for q in quotes], dtype="datetime64[us]"),
        np.fromiter((q.bid for q in quotes), np.float64, n),
        np.fromiter((q.ask for q in quotes), np.float64, n),
        np.fromiter((q.bid_size for q in quotes), np.float64, n),
        np.fromiter((q.ask_size for q in quotes), np.float64, n),
    )


# --------------------------------------------------------------------------------------- bars
def process_bar_arrays(
    engine: StreamState,
    tickers: Sequence[str] | np.ndarray,
    dates: np.ndarray,
    adj_close: np.ndarray,
    close: np.ndarray | None = None,
    volume: np.ndarray | None = None,
    *,
    emit: bool = False,
) -> list[FeatureValue]:
    """Apply a batch of daily bars given as arrays (arrival order); return values when ``emit``.

    ``dates`` are anything numpy reads as ``datetime64[D]``; a missing raw close or volume is
    NaN (or the whole array None). Dates close as in ``StreamingEngine.process``: bars of the
    latest date stay buffered until a later date or ``flush()``.
    """
    import numpy as np

    source = engine.sources.get("bars")
    if source is None or len(dates) == 0:
        return []
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    n = len(days)
    adj = np.asarray(adj_close, dtype=np.float64)
    cl = np.full(n, np.nan) if close is None else np.asarray(close, dtype=np.float64)
    vol = np.full(n, np.nan) if volume is None else np.asarray(volume, dtype=np.float64)
    codes, known_u, row_u, new_names = _codes(engine, source, tickers)
    known = known_u[codes]
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(adj) & (adj > 0)
    vk = known & valid
    opened = engine.open_date["bars"]
    open0 = _NONE if opened is None else opened.toordinal() - _UNIX_ORDINAL
    dv = np.where(vk, days, _NONE)
    open_at = np.full(n, open0, dtype=np.int64)  # the open date each bar meets
    np.maximum(np.maximum.accumulate(dv)[:-1], open0, out=open_at[1:])
    order, c, first = _grouped(codes)
    ticker_max = np.empty(n, dtype=np.int64)  # latest date of an earlier bar of the ticker
    ticker_max[order] = _before_max(c, first, days[order], vk[order])

    pend = source.state("@bar_pending", (), 0.0)
    pend_vals = source.state("@bar_pending_vals", (3,), np.nan)
    last_day = source.state("@bar_day", (), np.nan)
    last_vals = source.state("@bar_last", (3,), np.nan)
    row_ev = row_u[codes]
    has_row = row_ev >= 0
    safe = np.where(has_row, row_ev, 0)
    seed_pend = has_row & (pend[safe] > 0)
    seed_last = np.where(has_row & ~np.isnan(last_day[safe]), last_day[safe], _NONE)
    seed_last = seed_last.astype(np.int64)
    at_open = days == open_at
    seed_has = (days == open0) & (seed_pend | (seed_last == days))
    accepted = vk & ((days > open_at) | (at_open & (ticker_max < days) & ~seed_has))

    label = np.where(accepted, 0, np.where(~known, 1, np.where(~valid, 2, 3)))
    refused = np.flatnonzero(vk & ~accepted)
    if len(refused):
        _label_refused_bars(
            label, refused, accepted, codes, days, (adj, cl, vol), open_at, open0,
            row_ev, (seed_pend, pend_vals), (seed_last, last_vals),
        )  # fmt: skip

    def bar_dict(i: int) -> dict[str, object]:  # event_to_dict(Bar(...)), built directly
        return {
            "kind": "bar",
            "ticker": str(tickers[i]),
            "date": _day_date(int(days[i])).isoformat(),
            "adj_close": float(adj[i]),
            "close": _opt(cl[i]),
            "volume": _opt(vol[i]),
        }

    _count(engine, label, bar_dict)

    gaps = _gap_count(order, accepted, codes, days, seed_pend, seed_last, open0)
    if gaps:  # a Counter key is only created when something is counted
        engine.stats["gaps"] += gaps

    if not vk.any():
        return []
    return _close_and_apply(engine, source, new_names, row_u, codes, accepted, days,
                            int(max(open0, dv.max())), open0, (adj, cl, vol), emit)  # fmt: skip


def _label_refused_bars(
    label: np.ndarray,
    refused: np.ndarray,
    accepted: np.ndarray,
    codes: np.ndarray,
    days: np.ndarray,
    values: tuple[np.ndarray, np.ndarray, np.ndarray],
    open_at: np.ndarray,
    open0: int,
    row_ev: np.ndarray,
    pending: tuple[np.ndarray, np.ndarray],
    last: tuple[np.ndarray, np.ndarray],
) -> None:
    """Label each refused bar late (3), duplicate (4) or conflict (5), as the event rules say.

    ``pending`` is (ticker has a bar buffered for the open date, its values); ``last`` is (the
    date of the ticker's last applied bar, its values) — both as they were before this batch.
    """
    import numpy as np

    adj, cl, vol = values
    seed_pend, pend_vals = pending
    seed_last, last_vals = last
    acc_idx = np.flatnonzero(accepted)
    for i in refused:
        mine = acc_idx[(codes[acc_idx] == codes[i]) & (acc_idx < i)]
        row, day, event = row_ev[i], days[i], [adj[i], cl[i], vol[i]]
        ref: list[float] | None = None
        if day == open_at[i]:  # same key as a buffered or flushed bar
            if day == open0 and seed_pend[i]:
                ref = list(pend_vals[row])
            elif seed_last[i] == day:
                ref = list(last_vals[row])
            else:
                j = mine[days[mine] == day][0]
                ref = [adj[j], cl[j], vol[j]]
            label[i] = 4 if _same(ref, event) else 5
            continue
        # Older than the open date: a duplicate only of the ticker's last applied bar.
        ref_day = seed_last[i]
        if ref_day != _NONE:
            ref = list(last_vals[row])
        if seed_pend[i] and open0 < open_at[i]:
            ref_day, ref = open0, list(pend_vals[row])
        applied = mine[days[mine] < open_at[i]]
        if len(applied):
            j = applied[-1]
            ref_day, ref = days[j], [adj[j], cl[j], vol[j]]
        same = ref is not None and ref_day == day and _same(ref, event)
        label[i] = 4 if same else 3


def _gap_count(
    order: np.ndarray,
    accepted: np.ndarray,
    codes: np.ndarray,
    days: np.ndarray,
    seed_pend: np.ndarray,
    seed_last: np.ndarray,
    open0: int,
) -> int:
    """Accepted bars more than GAP_DAYS after the ticker's previous accepted one."""
    import numpy as np

    acc_sorted = order[accepted[order]]
    if not len(acc_sorted):
        return 0
    prev_day = np.where(seed_pend, open0, seed_last)[acc_sorted]
    same_ticker = codes[acc_sorted][1:] == codes[acc_sorted][:-1]
    prev_day[1:] = np.where(same_ticker, days[acc_sorted][:-1], prev_day[1:])
    return int(((prev_day != _NONE) & (days[acc_sorted] - prev_day > GAP_DAYS)).sum())


def _close_and_apply(
    engine: StreamState,
    source: SourceState,
    new_names: list[str],
    row_u: np.ndarray,
    codes: np.ndarray,
    accepted: np.ndarray,
    days: np.ndarray,
    open_end: int,
    open0: int,
    values: tuple[np.ndarray, np.ndarray, np.ndarray],
    emit: bool,
) -> list[FeatureValue]:
    """Close the buffered date when a later one arrived, buffer the latest date, apply the rest."""
    import numpy as np

    adj, cl, vol = values
    acc = np.flatnonzero(accepted)
    rows_u = _register(source, new_names, row_u, codes[acc], index_flag=True)
    pend = source.state("@bar_pending", (), 0.0)  # registering may have grown the arrays
    pend_vals = source.state("@bar_pending_vals", (3,), np.nan)
    rows_acc = rows_u[codes[acc]]
    later = days[acc] == open_end
    parts_rows, parts_days, parts_vals = [], [], []
    if open_end > open0:  # the buffered date closes
        held = np.flatnonzero(pend[: len(source.entities)] > 0)
        pend[held] = 0.0
        parts_rows.append(held)
        parts_days.append(np.full(len(held), open0, dtype=np.int64))
        parts_vals.append(pend_vals[held])
        engine.open_date["bars"] = _day_date(open_end)
    now = ~later
    parts_rows.append(rows_acc[now])
    parts_days.append(days[acc[now]])
    parts_vals.append(np.column_stack([adj[acc[now]], cl[acc[now]], vol[acc[now]]]))
    pend[rows_acc[later]] = 1.0
    pend_vals[rows_acc[later]] = np.column_stack([adj[acc[later]], cl[acc[later]], vol[acc[later]]])
    return _apply_bars(
        engine,
        source,
        np.concatenate(parts_rows),
        np.concatenate(parts_days),
        np.concatenate(parts_vals),
        emit,
    )


def flush_bars(engine: StreamState, *, emit: bool = False) -> list[FeatureValue]:
    """Apply the bars buffered for the open date (the date stays open for late copies)."""
    import numpy as np

    source = engine.sources.get("bars")
    opened = engine.open_date["bars"]
    if source is None or opened is None or "@bar_pending" not in source.arrays:
        return []
    pend = source.arrays["@bar_pending"]
    held = np.flatnonzero(pend[: len(source.entities)] > 0)
    if len(held) == 0:
        return []
    pend[held] = 0.0
    days = np.full(len(held), opened.toordinal() - _UNIX_ORDINAL, dtype=np.int64)
    vals = source.arrays["@bar_pending_vals"][held]
    return _apply_bars(engine, source, held, days, vals, emit)


def pending_bars(engine: StreamState) -> dict[str, Bar]:
    """The bars buffered for the open date, by ticker."""
    import numpy as np

    source = engine.sources.get("bars")
    opened = engine.open_date["bars"]
    if source is None or opened is None or "@bar_pending" not in source.arrays:
        return {}
    held = np.flatnonzero(source.arrays["@bar_pending"][: len(source.entities)] > 0)
    vals = source.arrays["@bar_pending_vals"]
    out = {}
    for r in held:
        t = source.entities[r]
        out[t] = Bar(t, opened, float(vals[r, 0]), _opt(vals[r, 1]), _opt(vals[r, 2]))
    return out


def bars_to_arrays(bars: Sequence[Bar]) -> tuple:
    """Bar objects -> the arrays ``process_bar_arrays`` takes."""
    import numpy as np

    n = len(bars)
    days = np.fromiter((b.date.toordinal() for b in bars), np.int64, n) - _UNIX_ORDINAL
    return (
        [b.ticker for b in bars],
        days.astype("datetime64[D]"),
        np.fromiter((b.adj_close for b in bars), np.float64, n),
        np.fromiter((math.nan if b.close is None else b.close for b in bars), np.float64, n),
        np.fromiter((math.nan if b.volume is None else b.volume for b in bars), np.float64, n),
    )


def _apply_bars(
    engine: StreamState,
    source: SourceState,
    rows: np.ndarray,
    days: np.ndarray,
    vals: np.ndarray,
    emit: bool,
) -> list[FeatureValue]:
    """Apply bars of closed dates (each ticker's in date order): market return, state, values."""
    import numpy as np

    if len(rows) == 0:
        return []
    order = np.argsort(rows, kind="stable")
    rows, days, vals = rows[order], days[order], vals[order]
    adj = vals[:, 0]
    # The S&P 500's log return of each date (NaN where it has no bar), chained from the
    # previous market bar: the same rule as the batch query.
    market = source.index.get(MARKET_TICKER, -1)
    is_market = rows == market
    market_return = np.full(len(rows), np.nan)
    if is_market.any():
        m_days, m_px = days[is_market], adj[is_market]
        prev = np.append(np.nan if engine.market_prev is None else engine.market_prev, m_px[:-1])
        m_ret = np.log(m_px / prev)
        at = np.minimum(np.searchsorted(m_days, days), len(m_days) - 1)
        market_return = np.where(m_days[at] == days, m_ret[at], np.nan)
        engine.market_prev = float(m_px[-1])
    # An index's close x volume is not a dollar amount (same rule as the batch query).
    index = source.arrays["@bar_index"][rows] > 0
    columns = {
        "adj_close": adj,
        "close": np.where(index, np.nan, vals[:, 1]),
        "volume": np.where(index, np.nan, vals[:, 2]),
        "market_log_return": market_return,
    }
    read = set().union(*(d.expr.inputs() for d in source.definitions))
    inputs = {k: v for k, v in columns.items() if k in read}
    ends = np.append(rows[1:] != rows[:-1], True)
    source.state("@bar_day", (), np.nan)[rows[ends]] = days[ends]
    source.state("@bar_last", (3,), np.nan)[rows[ends]] = vals[ends]
    return source.apply_events(rows, days * DAY_US, inputs, emit=emit, grouped=True)


# ------------------------------------------------------------------------------------ helpers
def _codes(
    engine: StreamState, source: SourceState, names: Sequence[str] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Codes 0.. per distinct name (first-seen order); per code: accepted? entity row (-1: none).

    Small batches: one dict pass. Large ones: the entity rows in one hash lookup (pandas) and,
    when every name has a row (the steady state), the codes from those integers; a name with a
    row was accepted before, so it is in the universe (fixed when the engine is built) and no
    name needs registering (the names list returned is empty). Otherwise one hash pass over the
    batch, then one dict lookup per distinct name.
    """
    import numpy as np

    n = len(names)
    if n <= 512:  # a dict beats pandas' setup on small batches
        seen: dict[str, int] = {}
        codes = np.fromiter((seen.setdefault(t, len(seen)) for t in names), np.int64, n)
        uniques = list(seen)
    else:
        import pandas as pd

        objects = np.asarray(names, dtype=object)
        rows_ev = source.lookup(objects)
        if len(rows_ev) and rows_ev.min() >= 0:
            codes, rows = _first_seen(rows_ev)
            return codes, np.ones(len(rows), dtype=bool), rows, []
        found, distinct = pd.factorize(objects)
        codes, uniques = found.astype(np.int64), distinct.tolist()
    index = source.index
    rows = np.fromiter((index.get(t, -1) for t in uniques), np.int64, len(uniques))
    if engine.universe is None:
        known = np.ones(len(uniques), dtype=bool)
    else:
        known = np.fromiter((t in engine.universe for t in uniques), bool, len(uniques))
    return codes, known, rows, uniques


def _first_seen(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0.. of ``values`` in first-seen order, and the value of each code."""
    import numpy as np

    uniq, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    if len(uniq) == len(values):  # each once: the codes are the positions
        return np.arange(len(values)), values
    rank = np.argsort(first)
    code_of = np.empty(len(uniq), dtype=np.int64)
    code_of[rank] = np.arange(len(uniq))
    return code_of[inverse.ravel()], uniq[rank]


def _register(
    source: SourceState,
    uniques: list[str],
    rows_u: np.ndarray,
    used: np.ndarray,
    *,
    index_flag: bool = False,
) -> np.ndarray:
    """Give the names of codes in ``used`` that have no row yet one (rows_u updated)."""
    import numpy as np

    fresh = used[rows_u[used] < 0]
    if len(fresh) == 0:
        return rows_u
    new = np.unique(fresh)
    names = [uniques[k] for k in new]
    rows_u[new] = source.register(names)
    if index_flag:
        flag = np.array([n.startswith("^") for n in names], dtype=np.float64)
        source.state("@bar_index", (), 0.0)[rows_u[new]] = flag
    return rows_u


def _grouped(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stable order by code, the sorted codes, and where each code's group starts."""
    import numpy as np

    order = np.argsort(codes, kind="stable")
    c = codes[order]
    first = np.empty(len(c), dtype=bool)
    first[0] = True
    np.not_equal(c[1:], c[:-1], out=first[1:])
    return order, c, first


def _before_max(c: np.ndarray, first: np.ndarray, t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Per group (sorted codes ``c``), the max of ``t`` over earlier ``v`` entries (or _NONE)."""
    import numpy as np

    n = len(t)
    base = int(t.min()) - 1
    span = int(t.max()) - base + 1
    if span * (int(c.max()) + 1) < 2**62:  # one running max over a packed (code, t) key
        key = c * span + np.where(v, t - base, 0)
        before = np.empty(n, dtype=np.int64)
        before[0] = -1
        before[1:] = np.maximum.accumulate(key)[:-1]
        local = before - c * span
        return np.where(first | (local <= 0), _NONE, local + base)
    out = np.full(n, _NONE, dtype=np.int64)  # values too far apart: group by group
    starts = np.flatnonzero(first)
    for start, stop in zip(starts, np.append(starts[1:], n), strict=True):
        seen = np.where(v[start:stop], t[start:stop], _NONE)
        out[start + 1 : stop] = np.maximum.accumulate(seen)[:-1]
    return out


def _count(engine: StreamState, label: np.ndarray, describe: object) -> None:
    """Add the labels to ``engine.stats``; keep the last rejections (arrival order)."""
    import numpy as np

    counts = np.bincount(label, minlength=len(_LABELS))
    for code, reason in enumerate(_LABELS):
        if counts[code]:
            engine.stats[reason] += int(counts[code])
    if counts[0] == len(label):
        return
    keep = engine.rejected.maxlen or 0
    for i in np.flatnonzero(label != 0)[-keep:]:
        engine.rejected.append((_LABELS[label[i]], describe(int(i))))  # type: ignore[operator]


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    """Field-wise equality where two missing values (NaN) are equal."""
    return all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))


def _opt(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _day_date(day: int) -> date:
    return date.fromordinal(day + _UNIX_ORDINAL)
