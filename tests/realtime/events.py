"""Helpers for the real-time tests: events as wire dicts, services run in process, comparisons."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from features.events import Bar, Event, Quote, event_to_dict
from features.service import FeatureService
from features.streaming import StreamingEngine
from ingestion.events.broker import JetStreamBroker

REL, ABS = 1e-9, 1e-12


def wire(event: Event) -> dict[str, Any]:
    """A Bar or Quote as the dict `broker publish` sends."""
    return event_to_dict(event)


def publish(url: str, events: Sequence[dict[str, Any]]) -> dict[str, int]:
    async def go() -> dict[str, int]:
        b = await JetStreamBroker(url).connect()
        try:
            return await b.publish(events)
        finally:
            await b.close()

    return asyncio.run(go())


def publish_raw(url: str, items: Sequence[tuple[str, bytes]]) -> None:
    async def go() -> None:
        b = await JetStreamBroker(url).connect()
        try:
            for subject, payload in items:
                await b.publish_raw(subject, payload)
        finally:
            await b.close()

    asyncio.run(go())


def consume(url: str, directory: Path, *, snapshot_every: int = 5_000) -> FeatureService:
    """Open the service in ``directory``, consume until idle for 1 s, checkpoint, return it."""

    async def go() -> FeatureService:
        service = FeatureService.open(directory)
        b = await JetStreamBroker(url).connect()
        source = await b.source("features", service.covered)
        try:
            await service.run(
                source, snapshot_every=snapshot_every, snapshot_interval_s=0.2, idle_exit_s=1.0
            )
        finally:
            await source.close()
            await b.close()
        return service

    return asyncio.run(go())


def bars_and_quotes(events: Sequence[Event]) -> list[Event]:
    return [e for e in events if isinstance(e, Bar | Quote)]


def with_repeats(events: Sequence[Event], rng: random.Random, n: int) -> list[Event]:
    """Exact duplicates and late quotes inserted after their original (the engine drops them)."""
    out = list(events)
    for _ in range(n):
        pos = rng.randrange(len(out))
        out.insert(pos + 1 + rng.randrange(3), out[pos])
    return out


def latest_map(engine: StreamingEngine) -> dict[tuple[str, str], float]:
    return {(v.entity, v.feature): v.value for e in engine.entities() for v in engine.latest(e)}


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= max(REL * max(abs(a), abs(b)), ABS)


def differences(a: dict, b: dict) -> list[str]:
    return [
        f"{k}: {a.get(k)} vs {b.get(k)}"
        for k in sorted(set(a) | set(b), key=str)
        if not close(a.get(k), b.get(k))
    ]


def batch_latest(batch: dict) -> dict[tuple[str, str], float]:
    """The last finite value of each (entity, feature) of the batch SQL (what the engine keeps)."""
    out: dict[tuple[str, str], tuple[Any, float]] = {}
    for (entity, name, ts), value in batch.items():
        if value is None or not math.isfinite(value):
            continue
        key = (entity, name)
        if key not in out or ts > out[key][0]:
            out[key] = (ts, value)
    return {k: v for k, (_, v) in out.items()}


def wipe(url: str) -> None:
    """Delete the event streams (a clean slate; the next connect creates them again)."""
    import nats

    from ingestion.events.schemas import STREAMS

    async def go() -> None:
        nc = await nats.connect(url)
        js = nc.jetstream()
        for stream, _ in STREAMS.values():
            try:
                await js.delete_stream(stream)
            except Exception:  # noqa: BLE001 - absent
                pass
        await nc.close()

    asyncio.run(go())
