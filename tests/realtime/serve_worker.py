"""A feature service process for the kill test: ``python -m tests.realtime.serve_worker URL DIR N``.

It runs exactly what ``sightline features serve`` runs (FeatureService over the JetStream source,
snapshot every N events) without the CLI's start-up cost, so 50+ SIGKILLs fit in a few minutes.
Prints ``ready`` once its consumers are bound.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from features.service import FeatureService
from ingestion.events.broker import JetStreamBroker


async def main(url: str, directory: Path, every: int) -> None:
    service = FeatureService.open(directory)
    broker = await JetStreamBroker(url).connect()
    source = await broker.source("features", service.covered)
    print("ready", flush=True)
    await service.run(source, snapshot_every=every, snapshot_interval_s=0.05)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])))
