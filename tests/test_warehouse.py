"""The warehouse's copy-on-write snapshots: readers never wait, failed writes leave no trace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest

from ingestion.warehouse import Migration, Warehouse


def test_failed_write_publishes_nothing(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path)
    with wh.writer() as con:
        con.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
    generation = wh.generation()
    with pytest.raises(RuntimeError), wh.writer() as con:
        con.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("boom")
    assert wh.generation() == generation
    with wh.reader() as con:
        assert con.execute("SELECT list(x) FROM t").fetchall()[0][0] == [1]
    assert not list(tmp_path.glob(".warehouse.duckdb.*"))


def test_reader_keeps_its_snapshot_while_a_writer_commits(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path)
    with wh.writer() as con:
        con.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
    with wh.reader() as old:
        with wh.writer() as con:
            con.execute("INSERT INTO t VALUES (2)")
        assert old.execute("SELECT count(*) FROM t").fetchall()[0][0] == 1
    # DuckDB shares one database instance per path inside a process, so a process sees the new
    # snapshot once its earlier readers are closed: readers are meant to be short-lived.
    with wh.reader() as new:
        assert new.execute("SELECT count(*) FROM t").fetchall()[0][0] == 2


def test_migrations_run_once_and_are_recorded(tmp_path: Path) -> None:
    migrations = [Migration("0001_t", "CREATE TABLE t (x INTEGER)")]
    wh = Warehouse(tmp_path, migrations=migrations)
    with wh.writer():
        pass
    with wh.writer():
        pass  # a second run must not fail on CREATE TABLE
    with wh.reader() as con:
        assert con.execute("SELECT name FROM _migrations").fetchall() == [("0001_t",)]


READER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from ingestion.warehouse import Warehouse
    wh, done = Warehouse(Path(sys.argv[1])), Path(sys.argv[2])
    seen, errors, reads = set(), [], 0
    while True:
        finished = done.exists()  # checked before the read: the last read follows the last write
        try:
            with wh.reader() as con:
                count = con.execute("SELECT count(*) FROM prices").fetchall()[0][0]
            reads += 1
            if count not in seen:  # tell the test each new snapshot as soon as it is read
                seen.add(count)
                print(count, flush=True)
        except Exception as exc:  # report, never hide
            errors.append(repr(exc))
        if finished:
            break
    print(json.dumps({"seen": sorted(seen), "errors": errors[:5], "reads": reads}), flush=True)
    """
)


def _next_count(reader: subprocess.Popen[str]) -> int:
    """The next new row count the reader reports (blocks until it reads one, fails if it died)."""
    assert reader.stdout is not None
    line = reader.stdout.readline()
    assert line, f"the reader exited early: {reader.wait()}"
    return int(line)


@pytest.mark.slow
def test_app_reader_keeps_serving_while_ingest_writes_from_another_process(
    runtime,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    """Two real processes: a reader loops on queries while `sightline ingest` loads files.

    No clock: the reader runs until the test says the writers are done, and after each ingest
    the test waits for the reader to report the new snapshot, so every write happens while the
    reader is serving, however slow the machine.
    """
    home = runtime.settings.home
    batches = []
    for batch in range(4):
        start = date(2000, 1, 1)
        lines = ["ticker,date,adj_close"] + [
            f"T{batch}X,{start + timedelta(days=i)},{10 + i}" for i in range(3000)
        ]
        path = tmp_path / f"batch{batch}.csv"
        path.write_text("\n".join(lines) + "\n")
        batches.append(path)
    runtime.users.add("loader", "researcher")
    env = {**os.environ, "SIGHTLINE_HOME": str(home)}
    cli = [sys.executable, "-m", "app.cli"]
    subprocess.run(
        [*cli, "ingest", "prices", str(batches[0]), "--user", "loader"],
        env=env,
        check=True,
        capture_output=True,
    )
    done = tmp_path / "writers-done"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(home), str(done)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert _next_count(reader) == 3000  # serving before any of the writes below
        for n, path in enumerate(batches[1:], start=2):
            ingest = subprocess.run(
                [*cli, "ingest", "prices", str(path), "--user", "loader"],
                env=env,
                capture_output=True,
                text=True,
            )
            assert ingest.returncode == 0, ingest.stderr
            assert _next_count(reader) == 3000 * n  # the reader moved on to the new snapshot
        done.touch()
        out, _ = reader.communicate()
    finally:
        if reader.poll() is None:
            reader.kill()
    result = json.loads(out)
    assert result["errors"] == []
    assert result["seen"] == [3000, 6000, 9000, 12000]
    assert result["reads"] >= 4
