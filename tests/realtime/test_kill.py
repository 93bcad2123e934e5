"""SIGKILL the feature service at random points (>=50 times): nothing lost, nothing counted twice.

Each round publishes the next slice of events, starts a service process, and kills it after a
random delay (half the rounds counted from its first new snapshot, so the machine's load cannot
push every kill into start-up) — while it applies events, writes a snapshot, acknowledges, or
waits. The final
state (after a last, clean run) must equal one uninterrupted in-process engine over the same
events to 1e-9, with the same counters (accepted, duplicate, late, ... — a count off by one is
an event lost or applied twice).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from features.events import synthetic_quotes
from features.service import MANIFEST
from features.streaming import StreamingEngine
from tests.features.test_parity import arrival_order, clean_events
from tests.realtime.events import (
    bars_and_quotes,
    consume,
    differences,
    latest_map,
    publish,
    wire,
    with_repeats,
)

KILLS = 50
ROOT = Path(__file__).parents[2]


@pytest.mark.slow
def test_sigkill_at_random_points_loses_and_doubles_nothing(
    broker_url: str, tmp_path: Path
) -> None:
    rng = random.Random(17)
    bars = bars_and_quotes(clean_events(3, 250, 0.05, 0.02))
    quotes = list(synthetic_quotes(25, 40_000, seed=5, events_per_second=2_000))
    events = with_repeats(arrival_order([*bars, *quotes], rng), rng, 300)
    slices = [
        events[i * len(events) // KILLS : (i + 1) * len(events) // KILLS] for i in range(KILLS)
    ]
    directory = tmp_path / "svc"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    progressed = 0
    for piece in slices:
        publish(broker_url, [wire(e) for e in piece])
        before = _generation(directory)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.realtime.serve_worker",
                broker_url,
                str(directory),
                "250",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
        if rng.random() < 0.5:
            # half the kills: after the first new snapshot (mid-apply, mid-snapshot, before
            # or after the ack, idle), however slow the loaded machine makes start-up
            deadline = time.monotonic() + 10
            while _generation(directory) == before and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.3))
        else:  # the others: anywhere from the first delivery on
            time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        progressed += _generation(directory) > before
    service = consume(broker_url, directory, snapshot_every=250)
    service.engine.flush()
    reference = StreamingEngine()
    reference.process(events)
    reference.flush()
    assert differences(latest_map(service.engine), latest_map(reference)) == []
    assert dict(service.engine.stats) == dict(reference.stats)
    assert sum(service.covered.values()) == len(events)
    assert progressed >= KILLS // 5, f"only {progressed} kills came after a snapshot"
    print(f"{KILLS} kills, {progressed} after at least one new snapshot; {len(events)} events")


def _generation(directory: Path) -> int:
    path = directory / MANIFEST
    return int(json.loads(path.read_text())["generation"]) if path.exists() else 0
