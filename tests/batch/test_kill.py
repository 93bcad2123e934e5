"""SIGKILL the batch at random points (>= 20 times): no half-written run is ever current."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from app.batch.run import run_batch
from app.runtime import Runtime
from tools import batch_store

D16 = date(2020, 3, 16)
KILLS = 20


def _invariant(rt: Runtime, first_good: str) -> None:
    """Every current run succeeded and holds exactly the result rows its lineage promises."""
    with rt.warehouse.reader() as con:
        current = batch_store.current_runs(con)
        assert current, "the good run stopped being current"
        for _as_of, run_id in current:
            row = batch_store.get_run(con, run_id)
            assert row.status == "succeeded", f"current run {run_id} is {row.status}"
            assert batch_store.result_counts(con, run_id) == row.lineage["result_rows"]
        assert batch_store.current_run_id(con, D16) == first_good  # identical reruns never replace


def _start(home: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "app.cli", "batch", "run", "--as-of", D16.isoformat(),
           "--user", "admin"]  # fmt: skip
    env = os.environ | {"SIGHTLINE_HOME": str(home)}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_write(home: Path, proc: subprocess.Popen[bytes], nth: int, limit: float) -> None:
    """Return once the process has started its ``nth`` warehouse write (a copy exists)."""
    seen, inside, deadline = 0, False, time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        busy = any(home.glob(".warehouse.duckdb.*.tmp"))
        if busy and not inside:
            seen += 1
            if seen >= nth:
                time.sleep(random.uniform(0.0, 0.05))
                return
        inside = busy
        time.sleep(0.002)


@pytest.mark.slow
def test_sigkill_never_leaves_a_half_written_run_current(book: Runtime) -> None:
    home = book.settings.home
    started = time.monotonic()
    good = run_batch(book, D16, user="admin", say=lambda _m: None)
    assert good.exit_code == 0
    duration = time.monotonic() - started  # a subprocess also pays its imports: kills land inside
    rng = random.Random(16)
    killed, i = 0, 0
    while killed < KILLS and i < KILLS + 10:
        i += 1
        proc = _start(home)
        if i % 2:  # mid-write: the running row, the feature refresh or the publish
            _wait_for_write(home, proc, nth=rng.choice([1, 2, 3]), limit=duration * 2)
        else:
            time.sleep(rng.uniform(0.2, duration))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        _invariant(book, good.run_id)
    assert killed >= KILLS
    # Restart = rerun: it completes, and the killed runs show as abandoned, never current.
    final = run_batch(book, D16, user="admin", say=lambda _m: None)
    assert final.status == "identical" and final.identical_to == good.run_id
    from app.batch.runs import runs

    statuses = [r.status for r in runs(book)]
    assert "running" not in statuses
    assert statuses.count("abandoned") + statuses.count("succeeded") == len(statuses)
    _invariant(book, good.run_id)
