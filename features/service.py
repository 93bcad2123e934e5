"""The feature service: broker events in, features kept current, snapshots naming their sequence.

``FeatureService`` applies deliveries from an ``ingestion.events.broker.EventSource`` to a
``StreamingEngine``, and every few thousand events (or seconds) writes a snapshot: the engine's
state plus, per stream, the last sequence that state covers. Only then are the deliveries
acknowledged. After a crash (SIGKILL at any point) ``FeatureService.open`` restores the last
snapshot and the broker's consumer restarts right after its sequences: an event is never lost
(unacknowledged ones are delivered again) and never counted twice (a delivery at or below the
covered sequence is skipped and counted as ``redelivered``).

Event policy (docs/realtime.md): malformed messages (not JSON, unknown kind, missing or mistyped
field) are counted as ``malformed``, kept among the last 100 rejections and acknowledged, so one
bad message never blocks a stream; trades are counted (``trades``) but no feature reads them yet;
late, duplicate, conflicting, out-of-order and invalid quotes and bars follow the streaming
engine's policy (``features.streaming``) and are counted there.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from features.events import Bar, Event, Quote
from features.streaming import StreamingEngine
from ingestion.errors import InputError
from ingestion.events.broker import Delivery, EventSource
from ingestion.events.schemas import MalformedEvent, decode_event

MANIFEST = "manifest.json"
LATEST = "latest.json"


def to_engine_event(data: Mapping[str, Any]) -> Event | None:
    """The engine event of a checked wire event (None for trades: no feature reads them)."""
    kind = data["kind"]
    if kind == "quote":
        return Quote(
            data["ticker"], data["ts"], data["bid"], data["ask"], data["bid_size"],
            data["ask_size"],
        )  # fmt: skip
    if kind == "bar":
        return Bar(data["ticker"], data["date"], data["adj_close"], data["close"], data["volume"])
    return None


class FeatureService:
    """A streaming engine fed from the broker, with snapshots that say which sequences they hold."""

    def __init__(
        self,
        directory: Path,
        engine: StreamingEngine | None = None,
        covered: Mapping[str, int] | None = None,
        stats: Mapping[str, int] | None = None,
    ) -> None:
        """A service over ``engine`` (default: a fresh one) whose state covers ``covered``."""
        self.directory = Path(directory)
        self.engine = engine or StreamingEngine()
        self.covered: dict[str, int] = dict(covered or {})
        self.stats: Counter[str] = Counter(stats or {})
        self.rejected: deque[dict[str, Any]] = deque(maxlen=100)
        self.generation = 0
        self.unacked: dict[str, Delivery] = {}
        self.unsnapshotted = 0
        # broker-stored-to-feature latency of the last deliveries (ms), for benchmarks and stats
        self.lags_ms: deque[float] = deque(maxlen=100_000)
        self.stream_ids: dict[str, str] = {}  # stream -> when it was created (see check_streams)

    # ------------------------------------------------------------------ state on disk
    @classmethod
    def open(cls, directory: Path) -> FeatureService:
        """The service restored from the last snapshot in ``directory`` (fresh when none)."""
        # The columnar path hashes large batches with pandas: import it now, not on the first
        # delivery (1-2 s on a loaded machine, which would be the first events' latency).
        import pandas  # noqa: F401

        directory = Path(directory)
        manifest = directory / MANIFEST
        if not manifest.exists():
            return cls(directory)
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        engine = StreamingEngine.restore(directory / meta["engine"])
        service = cls(directory, engine, meta["covered"], meta["stats"])
        service.generation = int(meta["generation"])
        service.rejected.extend(meta.get("rejected", []))
        service.stream_ids = dict(meta.get("streams", {}))
        return service

    def check_streams(self, current: Mapping[str, str]) -> None:
        """Refuse to resume on streams other than the ones the snapshot's sequences count.

        A stream deleted and created again numbers its messages from 1: resuming "after
        sequence N" there would skip N new events. The creation time of each stream is kept
        in the manifest and compared here.
        """
        for stream, seq in self.covered.items():
            known = self.stream_ids.get(stream)
            if seq and known is not None and current.get(stream) != known:
                raise InputError(
                    f"the broker's {stream} stream is not the one the feature snapshot covers "
                    f"(created {current.get(stream)}, snapshot taken on one created {known})",
                    hint=f"start over from the replayed streams: remove {self.directory} and run "
                    "`sightline features serve` again",
                )
        if dict(current) != self.stream_ids:
            self.stream_ids = dict(current)
            self.snapshot()  # the manifest names the streams from now on

    def snapshot(self) -> Path:
        """Write the engine state and the sequences it covers; atomic (manifest replaced last).

        The engine goes to a new ``engine-N`` directory; the manifest naming it and the covered
        sequences is written to a temp file and renamed over the old one, so a crash at any
        point leaves the previous snapshot or this one, never a mix.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        self.generation += 1
        name = f"engine-{self.generation}"
        self.engine.snapshot(self.directory / name)
        meta = {
            "generation": self.generation,
            "engine": name,
            "covered": self.covered,
            "stats": dict(self.stats),
            "rejected": list(self.rejected),
            "streams": self.stream_ids,
            "written_at": datetime.now(UTC).isoformat(),
        }
        _write_json(self.directory / MANIFEST, meta)
        for old in self.directory.glob("engine-*"):
            if old.name != name:  # older snapshots and leftovers of a crash mid-snapshot
                shutil.rmtree(old, ignore_errors=True)
        self.unsnapshotted = 0
        return self.directory / MANIFEST

    def publish_latest(self, path: Path) -> None:
        """Write the online store (``features.online`` format) with the covered sequences."""
        payload = {
            "written_at": datetime.now().isoformat(timespec="seconds"),
            "stats": self.counters(),
            "sequence": self.covered,
            "values": self.engine.online_values(),
        }
        _write_json(path, payload)

    def counters(self) -> dict[str, int]:
        """Every counter: the engine's policy counts plus the service's own."""
        return dict(self.engine.stats + self.stats)

    # ------------------------------------------------------------------ applying events
    def apply(self, deliveries: Iterable[Delivery]) -> int:
        """Apply deliveries in order; return how many reached the engine."""
        events: list[Event] = []
        stored: list[float] = []
        for d in deliveries:
            if d.sequence <= self.covered.get(d.stream, 0):
                self.stats["redelivered"] += 1  # already in the state: never counted twice
                continue
            self.covered[d.stream] = d.sequence
            self.unacked[d.stream] = d
            self.unsnapshotted += 1
            if d.stored_at is not None:
                stored.append(d.stored_at.timestamp())
            try:
                event = to_engine_event(decode_event(d.payload))
            except MalformedEvent as exc:
                self.stats["malformed"] += 1
                self.rejected.append(
                    {"stream": d.stream, "sequence": d.sequence, "reason": exc.message}
                )
                continue
            if event is None:
                self.stats["trades"] += 1
                continue
            events.append(event)
        if events:
            self.engine.process(events)
        now = time.time()
        self.lags_ms.extend((now - t) * 1000 for t in stored)
        return len(events)

    async def checkpoint(self, source: EventSource, latest: Path | None) -> None:
        """Snapshot, publish the online store, then acknowledge (never before the snapshot)."""
        if not self.unacked:
            return
        self.snapshot()
        if latest is not None:
            self.publish_latest(latest)
        await source.ack(self.unacked)
        self.unacked = {}

    async def run(
        self,
        source: EventSource,
        *,
        latest: Path | None = None,
        snapshot_every: int = 5_000,
        snapshot_interval_s: float = 1.0,
        idle_exit_s: float | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Consume until ``stop`` is set (or nothing arrived for ``idle_exit_s``)."""
        last_checkpoint = time.monotonic()
        last_event = time.monotonic()
        while stop is None or not stop.is_set():
            got = await source.fetch(10_000, timeout=0.2)
            if got:
                self.apply(got)
                last_event = time.monotonic()
            due = time.monotonic() - last_checkpoint >= snapshot_interval_s
            if self.unsnapshotted >= snapshot_every or (due and self.unacked):
                await self.checkpoint(source, latest)
                last_checkpoint = time.monotonic()
            if idle_exit_s is not None and time.monotonic() - last_event >= idle_exit_s:
                break
        await self.checkpoint(source, latest)


def _write_json(path: Path, payload: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(payload, default=str), encoding="utf-8")
    os.replace(tmp, path)
