"""The streaming engine: events in, every feature updated incrementally from the same definitions.

Each source keeps one state array per expression node (first axis = entity) and evaluates a batch
of rows (one per entity) with numpy: the same ``Node.evaluate`` the parity test compares with the
batch SQL. The latest value of each (entity, feature) is the online store the agent reads.

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
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from features.definitions import MARKET_TICKER, FeatureDefinition, by_source, select
from features.events import Bar, Event, Filing, MacroObs, Quote, event_from_dict, event_to_dict
from features.values import FeatureValue
from ingestion.errors import InputError, NotFoundError

if TYPE_CHECKING:
    import numpy as np

GAP_DAYS = 5
QUOTE_BUFFER = 8192  # quotes buffered before a micro-batch is applied (process() ends one)
SNAPSHOT_FORMAT = 2  # 2: O(1) window state (sums, extremes) replaced full buffers


class SourceState:
    """Node state and latest values of one source, for a growing set of entities."""

    def __init__(self, definitions: list[FeatureDefinition]) -> None:
        import numpy as np

        self.definitions = definitions
        self.entities: list[str] = []
        self.index: dict[str, int] = {}
        self.capacity = 16
        self.arrays: dict[str, np.ndarray] = {}
        self.fills: dict[str, float] = {}
        n = len(definitions)
        self.latest = np.full((self.capacity, n), np.nan)
        # Python date/datetime objects: converting every stamp to datetime64 costs more than
        # the feature update itself. Snapshots store them as datetime64.
        self.latest_at = np.full((self.capacity, n), None, dtype=object)
        self._rows = np.zeros(0, dtype=np.int64)
        self._inputs: dict[str, np.ndarray] = {}

    # -- Evaluator protocol (features.expressions) --
    def column(self, name: str) -> np.ndarray:
        """Input column for the current rows."""
        return self._inputs[name]

    def state(self, key: str, shape: tuple[int, ...], fill: float) -> np.ndarray:
        """State array of a node, created on first use."""
        import numpy as np

        if key not in self.arrays:
            self.arrays[key] = np.full((self.capacity, *shape), fill)
            self.fills[key] = fill
        return self.arrays[key]

    def rows(self) -> np.ndarray:
        """Entity indices of the current rows."""
        return self._rows

    # -- engine side --
    def entity_rows(self, entities: list[str]) -> np.ndarray:
        """Indices of ``entities``, registering new ones (growing every array)."""
        import numpy as np

        for name in entities:
            if name not in self.index:
                self.index[name] = len(self.entities)
                self.entities.append(name)
        if len(self.entities) > self.capacity:
            self._grow(max(len(self.entities), 2 * self.capacity))
        return np.fromiter((self.index[e] for e in entities), dtype=np.int64, count=len(entities))

    def _grow(self, capacity: int) -> None:
        import numpy as np

        def grown(arr: np.ndarray, fill: Any) -> np.ndarray:
            out = np.full((capacity, *arr.shape[1:]), fill, dtype=arr.dtype)
            out[: arr.shape[0]] = arr
            return out

        for key, arr in self.arrays.items():
            self.arrays[key] = grown(arr, self.fills[key])
        self.latest = grown(self.latest, np.nan)
        self.latest_at = grown(self.latest_at, None)
        self.capacity = capacity

    def apply(
        self, entities: list[str], stamps: np.ndarray, inputs: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate every feature for one row per entity (entities unique); return rows, values."""
        return self.apply_rows(self.entity_rows(entities), stamps, inputs)

    def apply_rows(
        self, rows: np.ndarray, stamps: np.ndarray, inputs: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``apply`` for entity indices already registered (unique)."""
        import numpy as np

        self._rows, self._inputs = rows, inputs
        memo: dict[str, np.ndarray] = {}
        values = np.column_stack([d.expr.evaluate(self, memo) for d in self.definitions])
        values[~np.isfinite(values)] = np.nan
        ok = ~np.isnan(values)
        if ok.any():
            r, c = np.nonzero(ok)
            self.latest[rows[r], c] = values[r, c]
            self.latest_at[rows[r], c] = stamps[r]
        return rows, values


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
        self.sources = {s: SourceState(d) for s, d in by_source(self.definitions).items()}
        self.macro_series = sorted(
            set().union(*(d.expr.inputs() for d in self.definitions if d.source == "macro"))
        )
        self.filing_items = sorted(
            set().union(*(d.expr.inputs() for d in self.definitions if d.source == "filings"))
        )
        self.stats: Counter[str] = Counter()
        self.rejected: deque[tuple[str, dict[str, object]]] = deque(maxlen=100)
        self.open_date: dict[str, date | None] = {"bars": None, "filings": None, "macro": None}
        self.pending_bars: dict[str, Bar] = {}
        self.pending_filings: dict[tuple[str, date, str], Filing] = {}
        self.pending_macro: dict[str, MacroObs] = {}
        self.last_bar: dict[str, Bar] = {}
        self.last_quote: dict[str, Quote] = {}
        self.last_macro: dict[str, MacroObs] = {}
        self.items: dict[str, dict[date, dict[str, float]]] = {}
        self.market_prev: float | None = None
        self._round: list[Quote] = []
        self._emit: list[FeatureValue] | None = None

    # ---------------------------------------------------------------- public API
    def process(self, events: Iterable[Event], *, emit: bool = False) -> list[FeatureValue]:
        """Apply events in arrival order; return the values they produced when ``emit``.

        Values of a daily source appear when its date closes (a later date arrives or
        ``flush()``); quote values appear at the end of this call at the latest.
        """
        self._emit = [] if emit else None
        for event in events:
            if isinstance(event, Quote):
                self._on_quote(event)
            elif isinstance(event, Bar):
                self._on_bar(event)
            elif isinstance(event, Filing):
                self._on_filing(event)
            elif isinstance(event, MacroObs):
                self._on_macro(event)
            else:
                raise InputError(f"not an event: {event!r}", hint="pass Bar/Quote/Filing/MacroObs")
        self._close_round()
        out, self._emit = self._emit or [], None
        return out

    def flush(self, *, emit: bool = False) -> list[FeatureValue]:
        """Close every open date and apply everything buffered."""
        self._emit = [] if emit else None
        self._close_round()
        self._close_bars()
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
                as_of = source.latest_at[row, col]
                if isinstance(as_of, np.datetime64):  # stored by the columnar quote path
                    as_of = as_of.astype("datetime64[us]").astype(datetime)
                out.append(
                    FeatureValue(entity, d.name, d.version, as_of, float(source.latest[row, col]))
                )
        return out

    def entities(self) -> list[str]:
        """Every entity with state, sorted."""
        return sorted(set().union(*(s.index for s in self.sources.values())))

    # ---------------------------------------------------------------- policy helpers
    def _reject(self, reason: str, event: Event) -> None:
        self.stats[reason] += 1
        self.rejected.append((reason, event_to_dict(event)))

    def _known(self, ticker: str) -> bool:
        return self.universe is None or ticker in self.universe

    def _emit_values(
        self, source: str, entities: list[str], stamps: list[Any], values: np.ndarray
    ) -> None:
        if self._emit is None:
            return
        import numpy as np

        defs = self.sources[source].definitions
        for r, c in zip(*np.nonzero(~np.isnan(values)), strict=True):
            d = defs[c]
            self._emit.append(
                FeatureValue(entities[r], d.name, d.version, stamps[r], float(values[r, c]))
            )

    # ---------------------------------------------------------------- quotes
    def _on_quote(self, q: Quote) -> None:
        if "quotes" not in self.sources:
            return
        if not self._known(q.ticker):
            return self._reject("unknown_entity", q)
        numbers = (q.bid, q.ask, q.bid_size, q.ask_size)
        if not all(math.isfinite(x) for x in numbers) or q.bid <= 0 or q.ask < q.bid:
            return self._reject("invalid", q)
        if q.bid_size < 0 or q.ask_size < 0:
            return self._reject("invalid", q)
        last = self.last_quote.get(q.ticker)  # the last accepted quote (applied or buffered)
        if last is not None and q.ts <= last.ts:
            if q.ts < last.ts:
                return self._reject("late", q)
            return self._reject("duplicate" if q == last else "conflict", q)
        self.last_quote[q.ticker] = q
        self._round.append(q)
        self.stats["accepted"] += 1
        if len(self._round) >= QUOTE_BUFFER:
            self._close_round()

    def _close_round(self) -> None:
        """Apply buffered quotes: round k holds each ticker's k-th buffered quote.

        Quote features are per ticker, so applying rounds in order keeps each ticker's order
        while letting numpy update many tickers at once (the micro-batch).
        """
        if not self._round:
            return
        import numpy as np

        buffered, self._round = self._round, []
        rounds: list[list[Quote]] = []
        seen: dict[str, int] = {}
        for q in buffered:
            k = seen.get(q.ticker, 0)
            seen[q.ticker] = k + 1
            if k == len(rounds):
                rounds.append([])
            rounds[k].append(q)
        for quotes in rounds:
            inputs = {
                "bid": np.array([q.bid for q in quotes]),
                "ask": np.array([q.ask for q in quotes]),
                "bid_size": np.array([q.bid_size for q in quotes]),
                "ask_size": np.array([q.ask_size for q in quotes]),
            }
            stamps = [q.ts for q in quotes]
            names = [q.ticker for q in quotes]
            _, values = self.sources["quotes"].apply(names, np.array(stamps, dtype=object), inputs)
            self._emit_values("quotes", names, stamps, values)

    # ---------------------------------------------------------------- bars
    def _on_bar(self, b: Bar) -> None:
        if "bars" not in self.sources:
            return
        if not self._known(b.ticker):
            return self._reject("unknown_entity", b)
        if not (math.isfinite(b.adj_close) and b.adj_close > 0):
            return self._reject("invalid", b)
        open_date = self.open_date["bars"]
        last = self.last_bar.get(b.ticker)
        if open_date is not None and b.date < open_date:
            return self._reject("duplicate" if b == last else "late", b)
        if open_date is not None and b.date == open_date:
            seen = self.pending_bars.get(b.ticker)
            if seen is None and last is not None and last.date == b.date:
                seen = last  # applied already (the date was flushed)
            if seen is not None:
                return self._reject("duplicate" if b == seen else "conflict", b)
        else:
            self._close_bars()
            self.open_date["bars"] = b.date
        previous = self.last_bar.get(b.ticker)  # after the close above: the bar before this one
        if previous is not None and (b.date - previous.date).days > GAP_DAYS:
            self.stats["gaps"] += 1
        self.pending_bars[b.ticker] = b
        self.stats["accepted"] += 1

    def _close_bars(self) -> None:
        if not self.pending_bars:
            return
        import numpy as np

        bars = sorted(self.pending_bars.values(), key=lambda b: b.ticker)
        self.pending_bars = {}
        market = next((b for b in bars if b.ticker == MARKET_TICKER), None)
        market_return = math.nan
        if market is not None:
            if self.market_prev is not None:
                market_return = math.log(market.adj_close / self.market_prev)
            self.market_prev = market.adj_close

        def raw(b: Bar, value: float | None) -> float:
            # An index's close x volume is not a dollar amount (same rule as the batch query).
            return math.nan if value is None or b.ticker.startswith("^") else value

        inputs = {
            "adj_close": np.array([b.adj_close for b in bars]),
            "close": np.array([raw(b, b.close) for b in bars]),
            "volume": np.array([raw(b, b.volume) for b in bars]),
            "market_log_return": np.full(len(bars), market_return),
        }
        for b in bars:
            self.last_bar[b.ticker] = b
        stamps = [b.date for b in bars]
        names = [b.ticker for b in bars]
        _, values = self.sources["bars"].apply(names, np.array(stamps, dtype=object), inputs)
        self._emit_values("bars", names, stamps, values)

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
        import numpy as np

        filed = list(self.pending_filings.values())
        self.pending_filings = {}
        for f in filed:
            self.items.setdefault(f.ticker, {}).setdefault(f.period_end, {})[f.item] = f.value
        tickers = sorted({f.ticker for f in filed})
        rows = []
        for t in tickers:
            periods = self.items[t]
            rows.append(periods[max(periods)])  # the latest period known at this filing date
        inputs = {
            item: np.array([row.get(item, math.nan) for row in rows]) for item in self.filing_items
        }
        day = filed[0].filing_date
        stamps = [day] * len(tickers)
        _, values = self.sources["filings"].apply(tickers, np.array(stamps, dtype=object), inputs)
        self._emit_values("filings", tickers, stamps, values)

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
        import numpy as np

        from features.definitions import MACRO_ENTITY

        observed = dict(self.pending_macro)
        self.pending_macro = {}
        self.last_macro.update(observed)
        inputs = {
            s: np.array([observed[s].value if s in observed else math.nan])
            for s in self.macro_series
        }
        day = next(iter(observed.values())).date
        _, values = self.sources["macro"].apply(
            [MACRO_ENTITY], np.array([day], dtype=object), inputs
        )
        self._emit_values("macro", [MACRO_ENTITY], [day], values)

    # ---------------------------------------------------------------- snapshot / restore
    def snapshot(self, directory: Path) -> Path:
        """Write the whole state to ``directory`` atomically (state.npz + state.json).

        Buffered events of open dates are saved too, so a restored engine continues exactly
        where this one stopped. No pickle: arrays go to .npz, everything else to JSON.
        """
        import numpy as np

        self._close_round()
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
            arrays[f"{name}_latest_at"] = (
                np.array(
                    [
                        [
                            np.datetime64(v, "us") if v is not None else np.datetime64("NaT")
                            for v in row
                        ]
                        for row in src.latest_at
                    ],
                    dtype="datetime64[us]",
                )
                .reshape(src.latest_at.shape)
                .astype("int64")
            )
            sources_meta[name] = {
                "entities": src.entities,
                "capacity": src.capacity,
                "keys": keys,
                "fills": [src.fills[k] for k in keys],
            }
        np.savez(tmp / "state.npz", **arrays)  # type: ignore[arg-type]
        pending: list[Event] = [
            *self.pending_bars.values(),
            *self.pending_filings.values(),
            *self.pending_macro.values(),
        ]
        last: list[Event] = [
            *self.last_bar.values(),
            *self.last_quote.values(),
            *self.last_macro.values(),
        ]
        meta = {
            "format": SNAPSHOT_FORMAT,
            "versions": {d.name: d.version for d in self.definitions},
            "universe": sorted(self.universe) if self.universe is not None else None,
            "sources": sources_meta,
            "stats": dict(self.stats),
            "rejected": [[reason, event] for reason, event in self.rejected],
            "open_date": {k: v.isoformat() if v else None for k, v in self.open_date.items()},
            "pending": [event_to_dict(e) for e in pending],
            "last": [event_to_dict(e) for e in last],
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
                src.latest_at = _stamps_from(data[f"{name}_latest_at"], quotes=name == "quotes")
        engine.stats = Counter(meta["stats"])
        engine.rejected.extend((reason, event) for reason, event in meta["rejected"])
        engine.open_date = {
            k: date.fromisoformat(v) if v else None for k, v in meta["open_date"].items()
        }
        for data_event in meta["pending"]:
            e = event_from_dict(data_event)
            if isinstance(e, Bar):
                engine.pending_bars[e.ticker] = e
            elif isinstance(e, Filing):
                engine.pending_filings[(e.ticker, e.period_end, e.item)] = e
            elif isinstance(e, MacroObs):
                engine.pending_macro[e.series] = e
        for data_event in meta["last"]:
            e = event_from_dict(data_event)
            if isinstance(e, Bar):
                engine.last_bar[e.ticker] = e
            elif isinstance(e, Quote):
                engine.last_quote[e.ticker] = e
            elif isinstance(e, MacroObs):
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


def _stamps_from(micros: np.ndarray, *, quotes: bool) -> np.ndarray:
    """int64 microseconds (NaT = missing) -> object array of datetime (quotes) or date."""
    import numpy as np

    out = np.full(micros.shape, None, dtype=object)
    stamps = micros.astype("datetime64[us]")
    for index in zip(*np.nonzero(~np.isnat(stamps)), strict=True):
        value = stamps[index].astype(datetime)
        out[index] = value if quotes else value.date()
    return out
