"""The streaming engine: events in, every feature updated incrementally from the same definitions.

Each source keeps one state array per expression node (first axis = entity) and evaluates blocks
of observations with numpy: row i of a block holds the next few observations of one entity, in
order, so each node updates every entity of the block in one vectorized pass (the same
``Node.evaluate`` the parity test compares with the batch SQL). The latest value of each
(entity, feature) is the online store the agent reads.

Bars and quotes take a columnar path (``features.columnar``): events as arrays, the policy below
checked with array operations, no Python per event. ``process()`` turns each run of consecutive
bars or quotes into arrays and takes the same path, so both APIs share one policy and one state.

Event policy (also in docs/features.md; every branch is tested):

* **Daily sources** (bars, filings, macro) are applied one date at a time. Events of the open
  date are buffered; the first event of a later date closes it (flush() closes it too). So the
  order of events *within* a date does not matter (the S&P 500 bar is applied before the stocks
  whose beta needs it).
* **Out of order**: an event older than the open date (quotes: older than the ticker's last
  quote) is rejected as ``late``; state is never rewound. Re-run the batch with ``--since`` to
  take in corrected history.
* **Duplicates**: an event equal to the one already applied or buffered for the same key is
  dropped as ``duplicate``; a different event for the same key is rejected as ``conflict``
  (first one wins).
* **Gaps**: windows count observations, not calendar days (as in the batch), so a missing day
  just makes the window span more days; each gap of more than 5 calendar days between bars is
  counted under ``gaps`` and the event is applied.
* **Unknown entities**: with a universe given, events of other tickers or of macro series no
  feature reads are rejected as ``unknown_entity``; ``invalid`` events (non-positive price,
  crossed quote, NaN) are rejected too. Rejections are counted and the last 100 kept.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections import Counter, deque
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from features.columnar import (
    bars_to_arrays,
    flush_bars,
    pending_bars,
    process_bar_arrays,
    process_quote_arrays,
    quotes_to_arrays,
)
from features.definitions import MACRO_ENTITY, by_source, select
from features.events import Bar, Event, Filing, MacroObs, Quote, event_from_dict, event_to_dict
from features.state import BLOCK_WIDTH, DAY_US, GAP_DAYS, SourceState, stamp_to_python
from features.values import FeatureValue
from ingestion.errors import InputError, NotFoundError

__all__ = ["BLOCK_WIDTH", "DAY_US", "GAP_DAYS", "StreamingEngine"]

RUN_CHUNK = 65_536  # process(): events of one kind converted to arrays at a time
SNAPSHOT_FORMAT = 3  # 3: window state = the last `window` values; policy state as arrays


class StreamingEngine:
    """Consumes events, keeps features current, snapshots and restores its whole state."""

    def __init__(
        self,
        names: list[str] | tuple[str, ...] | None = None,
        *,
        universe: Iterable[str] | None = None,
    ) -> None:
        """Build an engine for the named features (default: all).

        Args:
            names: Features to keep up to date.
            universe: Tickers accepted (None: any ticker). Macro series are always limited to
                the ones the features read.
        """
        self.definitions = select(names)
        self.universe = set(universe) if universe is not None else None
        self.sources = {
            s: SourceState(d, daily=s != "quotes") for s, d in by_source(self.definitions).items()
        }
        self.macro_series = sorted(
            set().union(*(d.expr.inputs() for d in self.definitions if d.source == "macro"))
        )
        self.filing_items = sorted(
            set().union(*(d.expr.inputs() for d in self.definitions if d.source == "filings"))
        )
        self.stats: Counter[str] = Counter()
        self.rejected: deque[tuple[str, dict[str, object]]] = deque(maxlen=100)
        self.open_date: dict[str, date | None] = {"bars": None, "filings": None, "macro": None}
        self.pending_filings: dict[tuple[str, date, str], Filing] = {}
        self.pending_macro: dict[str, MacroObs] = {}
        self.last_macro: dict[str, MacroObs] = {}
        self.items: dict[str, dict[date, dict[str, float]]] = {}
        self.market_prev: float | None = None
        self._emit: list[FeatureValue] | None = None

    # ---------------------------------------------------------------- public API
    def process(self, events: Iterable[Event], *, emit: bool = False) -> list[FeatureValue]:
        """Apply events in arrival order; return the values they produced when ``emit``.

        Values of a daily source appear when its date closes (a later date arrives or
        ``flush()``); quote values appear when this call returns at the latest.
        """
        self._emit = [] if emit else None
        run: list[Any] = []
        kind: type | None = None

        def drain() -> None:
            if not run:
                return
            if kind is Bar:
                got = process_bar_arrays(self, *bars_to_arrays(run), emit=emit)
            else:
                got = process_quote_arrays(self, *quotes_to_arrays(run), emit=emit)
            if self._emit is not None:
                self._emit.extend(got)
            run.clear()

        for event in events:
            if isinstance(event, Bar | Quote):
                if type(event) is not kind or len(run) >= RUN_CHUNK:
                    drain()
                    kind = type(event)
                run.append(event)
                continue
            drain()
            kind = None
            if isinstance(event, Filing):
                self._on_filing(event)
            elif isinstance(event, MacroObs):
                self._on_macro(event)
            else:
                raise InputError(f"not an event: {event!r}", hint="pass Bar/Quote/Filing/MacroObs")
        drain()
        out, self._emit = self._emit or [], None
        return out

    def flush(self, *, emit: bool = False) -> list[FeatureValue]:
        """Close every open date and apply everything buffered."""
        self._emit = [] if emit else None
        values = flush_bars(self, emit=emit)
        if self._emit is not None:
            self._emit.extend(values)
        self._close_filings()
        self._close_macro()
        out, self._emit = self._emit or [], None
        return out

    def latest(self, entity: str, names: list[str] | None = None) -> list[FeatureValue]:
        """The online store: the latest value of each feature for ``entity``."""
        import numpy as np

        wanted = {d.name for d in select(names)} if names else None
        out = []
        for source in self.sources.values():
            row = source.index.get(entity)
            if row is None:
                continue
            for col, d in enumerate(source.definitions):
                if (wanted and d.name not in wanted) or np.isnan(source.latest[row, col]):
                    continue
                as_of = stamp_to_python(int(source.latest_at[row, col]), daily=source.daily)
                out.append(
                    FeatureValue(entity, d.name, d.version, as_of, float(source.latest[row, col]))
                )
        return out

    def entities(self) -> list[str]:
        """Every entity with state, sorted."""
        return sorted(set().union(*(s.index for s in self.sources.values())))

    @property
    def pending_bars(self) -> dict[str, Bar]:
        """Bars of the open date, buffered until it closes (by ticker)."""
        return pending_bars(self)

    # ---------------------------------------------------------------- policy helpers
    def _reject(self, reason: str, event: Event) -> None:
        self.stats[reason] += 1
        self.rejected.append((reason, event_to_dict(event)))

    def _known(self, ticker: str) -> bool:
        return self.universe is None or ticker in self.universe

    def _apply_one_date(
        self, source: str, entities: list[str], day: date, inputs: dict[str, list[float]]
    ) -> None:
        """Apply one observation per entity, all dated ``day`` (filings, macro)."""
        import numpy as np

        state = self.sources[source]
        rows = state.register(entities)
        stamps = np.full(len(rows), _day_us(day), dtype=np.int64)
        arrays = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
        values = state.apply_events(rows, stamps, arrays, emit=self._emit is not None)
        if self._emit is not None:
            self._emit.extend(values)

    # ---------------------------------------------------------------- filings
    def _on_filing(self, f: Filing) -> None:
        if "filings" not in self.sources:
            return
        if not self._known(f.ticker):
            return self._reject("unknown_entity", f)
        if not math.isfinite(f.value):
            return self._reject("invalid", f)
        if f.item not in self.filing_items:
            self.stats["unused"] += 1  # a line item no feature reads: accepted, nothing to do
            return
        key = (f.ticker, f.period_end, f.item)
        known = self.items.get(f.ticker, {}).get(f.period_end, {}).get(f.item)
        open_date = self.open_date["filings"]
        if open_date is not None and f.filing_date < open_date:
            return self._reject("duplicate" if known == f.value else "late", f)
        seen = self.pending_filings.get(key)
        if seen is not None or known is not None:
            same = (seen.value if seen is not None else known) == f.value
            return self._reject("duplicate" if same else "conflict", f)
        if open_date is None or f.filing_date > open_date:
            self._close_filings()
            self.open_date["filings"] = f.filing_date
        self.pending_filings[key] = f
        self.stats["accepted"] += 1

    def _close_filings(self) -> None:
        if not self.pending_filings:
            return
        filed = list(self.pending_filings.values())
        self.pending_filings = {}
        for f in filed:
            self.items.setdefault(f.ticker, {}).setdefault(f.period_end, {})[f.item] = f.value
        tickers = sorted({f.ticker for f in filed})
        rows = []
        for t in tickers:
            periods = self.items[t]
            rows.append(periods[max(periods)])  # the latest period known at this filing date
        inputs = {item: [row.get(item, math.nan) for row in rows] for item in self.filing_items}
        self._apply_one_date("filings", tickers, filed[0].filing_date, inputs)

    # ---------------------------------------------------------------- macro
    def _on_macro(self, m: MacroObs) -> None:
        if "macro" not in self.sources:
            return
        if m.series not in self.macro_series:
            return self._reject("unknown_entity", m)
        if not math.isfinite(m.value):
            return self._reject("invalid", m)
        open_date = self.open_date["macro"]
        last = self.last_macro.get(m.series)
        if open_date is not None and m.date < open_date:
            return self._reject("duplicate" if m == last else "late", m)
        if open_date is not None and m.date == open_date:
            seen = self.pending_macro.get(m.series)
            if seen is None and last is not None and last.date == m.date:
                seen = last
            if seen is not None:
                return self._reject("duplicate" if m == seen else "conflict", m)
        else:
            self._close_macro()
            self.open_date["macro"] = m.date
        self.pending_macro[m.series] = m
        self.stats["accepted"] += 1

    def _close_macro(self) -> None:
        if not self.pending_macro:
            return
        observed = dict(self.pending_macro)
        self.pending_macro = {}
        self.last_macro.update(observed)
        inputs = {s: [observed[s].value if s in observed else math.nan] for s in self.macro_series}
        day = next(iter(observed.values())).date
        self._apply_one_date("macro", [MACRO_ENTITY], day, inputs)

    # ---------------------------------------------------------------- snapshot / restore
    def snapshot(self, directory: Path) -> Path:
        """Write the whole state to ``directory`` atomically (state.npz + state.json).

        Buffered events of open dates are saved too, so a restored engine continues exactly
        where this one stopped. No pickle: arrays go to .npz, everything else to JSON.
        """
        import numpy as np

        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.with_name(directory.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        arrays: dict[str, np.ndarray] = {}
        sources_meta = {}
        for name, src in self.sources.items():
            keys = sorted(src.arrays)
            for i, key in enumerate(keys):
                arrays[f"{name}_{i}"] = src.arrays[key]
            arrays[f"{name}_latest"] = src.latest
            arrays[f"{name}_latest_at"] = src.latest_at
            sources_meta[name] = {
                "entities": src.entities,
                "capacity": src.capacity,
                "keys": keys,
                "fills": [src.fills[k] for k in keys],
            }
        np.savez(tmp / "state.npz", **arrays)  # type: ignore[arg-type]
        pending: list[Event] = [*self.pending_filings.values(), *self.pending_macro.values()]
        meta = {
            "format": SNAPSHOT_FORMAT,
            "versions": {d.name: d.version for d in self.definitions},
            "universe": sorted(self.universe) if self.universe is not None else None,
            "sources": sources_meta,
            "stats": dict(self.stats),
            "rejected": [[reason, event] for reason, event in self.rejected],
            "open_date": {k: v.isoformat() if v else None for k, v in self.open_date.items()},
            "pending": [event_to_dict(e) for e in pending],
            "last": [event_to_dict(e) for e in self.last_macro.values()],
            "items": {
                t: {p.isoformat(): items for p, items in periods.items()}
                for t, periods in self.items.items()
            },
            "market_prev": self.market_prev,
        }
        (tmp / "state.json").write_text(json.dumps(meta), encoding="utf-8")
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)
        return directory

    @classmethod
    def restore(cls, directory: Path) -> StreamingEngine:
        """An engine with the state saved by ``snapshot``.

        Raises:
            NotFoundError: No snapshot in ``directory``.
            InputError: The snapshot was made with other feature definitions or format.
        """
        import numpy as np

        directory = Path(directory)
        if not (directory / "state.json").exists():
            raise NotFoundError(
                f"no streaming snapshot in {directory}",
                hint="run `sightline features stream` first",
            )
        meta = json.loads((directory / "state.json").read_text(encoding="utf-8"))
        engine = cls(list(meta["versions"]), universe=meta["universe"])
        current = {d.name: d.version for d in engine.definitions}
        if meta["format"] != SNAPSHOT_FORMAT or current != meta["versions"]:
            raise InputError(
                "the streaming snapshot was made with other feature definitions",
                hint="replay the events again (`sightline features stream`)",
            )
        with np.load(directory / "state.npz", allow_pickle=False) as data:
            for name, smeta in meta["sources"].items():
                src = engine.sources[name]
                src.entities = list(smeta["entities"])
                src.index = {e: i for i, e in enumerate(src.entities)}
                src.capacity = int(smeta["capacity"])
                for i, (key, fill) in enumerate(zip(smeta["keys"], smeta["fills"], strict=True)):
                    src.arrays[key] = data[f"{name}_{i}"].copy()
                    src.fills[key] = fill
                src.latest = data[f"{name}_latest"].copy()
                src.latest_at = data[f"{name}_latest_at"].copy()
        engine.stats = Counter(meta["stats"])
        engine.rejected.extend((reason, event) for reason, event in meta["rejected"])
        engine.open_date = {
            k: date.fromisoformat(v) if v else None for k, v in meta["open_date"].items()
        }
        for data_event in meta["pending"]:
            e = event_from_dict(data_event)
            if isinstance(e, Filing):
                engine.pending_filings[(e.ticker, e.period_end, e.item)] = e
            elif isinstance(e, MacroObs):
                engine.pending_macro[e.series] = e
        for data_event in meta["last"]:
            e = event_from_dict(data_event)
            if isinstance(e, MacroObs):
                engine.last_macro[e.series] = e
        engine.items = {
            t: {date.fromisoformat(p): dict(items) for p, items in periods.items()}
            for t, periods in meta["items"].items()
        }
        engine.market_prev = meta["market_prev"]
        return engine

    def online_values(self) -> list[dict[str, object]]:
        """Every latest value, JSON-ready (what ``write_online`` publishes)."""
        return [fv.to_dict() for entity in self.entities() for fv in self.latest(entity)]


def _day_us(day: date) -> int:
    """A date as int64 microseconds since 1970 (midnight)."""
    return (day.toordinal() - 719_163) * DAY_US
