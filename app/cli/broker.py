"""``sightline broker ...`` and ``sightline features serve``: market events through JetStream."""

from __future__ import annotations

import asyncio
import math
import signal
import time
from pathlib import Path
from typing import Any

import click

from app.runtime import Runtime
from ingestion.errors import InputError, Problem, ValidationError


@click.group()
def broker() -> None:
    """Market-event broker (NATS JetStream): publish event files, show stream positions."""


def read_event_file(path: Path) -> list[dict[str, Any]]:
    """The events of a CSV or Parquet file (one row each, a ``kind`` column), checked.

    Raises:
        InputError: Unknown file type or no ``kind`` column.
        ValidationError: Rows that are not events (every bad row listed with its line).
    """
    import pandas as pd

    from ingestion.events.schemas import MalformedEvent, check_event

    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path)
    elif path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    else:
        raise InputError(f"{path.name}: not a .csv or .parquet file", hint="convert it first")
    if "kind" not in frame.columns:
        raise InputError(
            f"{path.name}: no 'kind' column", hint="each row needs kind = quote, trade or bar"
        )
    events, problems = [], []
    for line, row in enumerate(frame.to_dict("records"), start=2):
        data = {k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
        try:
            events.append(check_event(data))
        except MalformedEvent as exc:
            problems.append(Problem(exc.message, row=line))
    if problems:
        raise ValidationError(f"{path.name}: {len(problems)} row(s) are not events", problems)
    return events


@broker.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print {events, seconds, last_sequence}.")
@click.pass_obj
def publish_cmd(rt: Runtime, file: Path, as_json: bool) -> None:
    """Replay FILE (CSV or Parquet of quote/trade/bar events) into the broker, in file order."""
    from ingestion.events.broker import JetStreamBroker

    events = read_event_file(file)
    started = time.monotonic()

    async def go() -> dict[str, int]:
        b = await JetStreamBroker(rt.settings.nats_url).connect()
        try:
            return await b.publish(events)
        finally:
            await b.close()

    last = asyncio.run(go())
    seconds = time.monotonic() - started
    if as_json:
        from app.cli import emit_json

        emit_json({"events": len(events), "seconds": round(seconds, 3), "last_sequence": last})
        return
    where = ", ".join(f"{s} up to {n}" for s, n in sorted(last.items()))
    click.echo(f"published {len(events):,} events in {seconds:.2f}s ({where})")


@broker.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print {stream: last sequence}.")
@click.pass_obj
def status_cmd(rt: Runtime, as_json: bool) -> None:
    """The last sequence stored in each event stream."""
    from ingestion.events.broker import JetStreamBroker

    async def go() -> dict[str, int]:
        b = await JetStreamBroker(rt.settings.nats_url).connect()
        try:
            return await b.last_sequences()
        finally:
            await b.close()

    last = asyncio.run(go())
    if as_json:
        from app.cli import emit_json

        emit_json(last)
        return
    for stream, seq in sorted(last.items()):
        click.echo(f"{stream:<8} {seq:>10,}")


def service_dir(rt: Runtime) -> Path:
    """Where the feature service keeps its snapshots (``online/service`` in the data dir)."""
    return rt.settings.home / "online" / "service"


@click.command("serve")
@click.option(
    "--idle-exit",
    type=float,
    default=None,
    help="Stop after this many seconds without events (default: run until SIGTERM/Ctrl-C).",
)
@click.option("--durable", default="features", show_default=True, help="Consumer name.")
@click.pass_obj
def features_serve(rt: Runtime, idle_exit: float | None, durable: str) -> None:
    """Consume the event streams, keep the online store current, snapshot then acknowledge."""
    from filelock import FileLock, Timeout

    from features.service import LATEST, FeatureService
    from ingestion.errors import StoreError
    from ingestion.events.broker import JetStreamBroker

    directory = service_dir(rt)
    directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(directory / "service.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise StoreError(
            "another `sightline features serve` runs on this data dir",
            hint="stop it first; one feature service per data dir",
        ) from None
    service = FeatureService.open(directory)
    click.echo(f"feature service: resuming after {service.covered or 'nothing'}", err=True)
    s = rt.settings

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        b = await JetStreamBroker(s.nats_url).connect()
        try:
            service.check_streams(await b.stream_ids())
        except Exception:
            await b.close()
            raise
        source = await b.source(durable, service.covered)
        try:
            await service.run(
                source,
                latest=rt.settings.home / "online" / LATEST,
                snapshot_every=s.feature_snapshot_every,
                snapshot_interval_s=s.feature_snapshot_interval_s,
                idle_exit_s=idle_exit,
                stop=stop,
            )
        finally:
            await source.close()
            await b.close()

    try:
        asyncio.run(go())
    finally:
        lock.release()
    click.echo(f"feature service stopped at {service.covered}; {service.counters()}", err=True)
