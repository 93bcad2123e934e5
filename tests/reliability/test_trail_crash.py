"""The trail under faults (SECURITY.md row 4): SIGKILLed writers, a full disk, I/O errors, and
compliance reading while other processes append.

A record counts as acknowledged once ``append`` has returned; the writer then reports its id
through a pipe. Whatever moment the writer dies at, every acknowledged record must be there and
the chain must verify; a failed write raises ``TrailWriteError`` and leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.trail import TrailWriteError
from app.trail.export import recompute_hash
from app.trail.sqlite import SqliteTrailStore
from tests.trail.conftest import add_people, make_answer

ROOT = Path(__file__).resolve().parents[2]
PAD = "realistic evidence text " * 420  # ~10 KB per record, like an answer with its evidence


def _writer(path: Path, ack_fd: int, tag: int) -> None:
    """Child process: append forever, acknowledging each record after append returned."""
    store = SqliteTrailStore(path)
    n = 0
    while True:
        stored = store.append(make_answer("ana", n, details={"pad": PAD, "writer": tag}))
        os.write(ack_fd, f"{stored.id}\n".encode())
        n += 1


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
def test_sigkill_at_random_points_loses_no_acknowledged_record(tmp_path) -> None:
    path = tmp_path / "trail.sqlite"
    store = SqliteTrailStore(path)
    rng = random.Random(20261128)
    acknowledged: set[str] = set()
    kills = 0
    for round_ in range(220):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the writer: a real process, killed without warning
            os.close(read_fd)
            try:
                _writer(path, write_fd, round_)
            finally:
                os._exit(0)
        os.close(write_fd)
        head = b""
        if round_ % 2:  # half the rounds: let the writer get going, then kill it mid-stream
            while not head.endswith(b"\n"):
                chunk = os.read(read_fd, 1)
                if not chunk:
                    break
                head += chunk
        time.sleep(rng.uniform(0.0, 0.05))  # the other half may die while starting up
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        kills += 1
        lines = (head + _read_all(read_fd)).decode().split("\n")
        os.close(read_fd)
        acknowledged.update(line for line in lines[:-1] if line)  # complete lines only
        if round_ % 20 == 19 or round_ == 219:
            result = store.verify()
            assert result.ok, result.to_json()
            stored_ids = {r.id for r in store.scan()}
            assert acknowledged <= stored_ids
    assert kills >= 200
    assert len(acknowledged) >= 110  # at least one per waited-for round, by construction
    final = store.verify()
    assert final.ok and final.head.count >= len(acknowledged)


class FullDisk(SqliteTrailStore):
    """The same store on a 'disk' with no room left: SQLite may not grow the file any more."""

    def _open(self) -> sqlite3.Connection:
        con = super()._open()
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count = {pages}")
        return con


def test_disk_full_raises_and_writes_nothing(tmp_path) -> None:
    path = tmp_path / "trail.sqlite"
    store = SqliteTrailStore(path)
    first = [store.append(make_answer(n=i)) for i in range(3)]
    full = FullDisk(path)
    with pytest.raises(TrailWriteError) as info:
        full.append(make_answer(n=99, details={"pad": PAD * 20}))
    assert "could not be written" in str(info.value) and "nothing was stored" in str(info.value)
    assert info.value.hint
    result = store.verify()
    assert result.ok and result.head.count == 3 and result.head.hash == first[-1].hash
    after = store.append(make_answer(n=4))  # the chain continues where it was
    assert after.seq == 4 and after.prev_hash == first[-1].hash and store.verify().ok


def test_io_error_from_the_file_system_raises_and_writes_nothing(tmp_path) -> None:
    path = tmp_path / "trail.sqlite"
    store = SqliteTrailStore(path)
    before = [store.append(make_answer(n=i)) for i in range(3)]
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            os.close(read_fd)
            # The kernel now refuses to grow any file of this process: writes fail with EFBIG.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            limit = max(p.stat().st_size for p in tmp_path.iterdir() if p.is_file())
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            try:
                SqliteTrailStore(path).append(make_answer(n=99, details={"pad": PAD * 30}))
                code = 0
            except TrailWriteError as exc:
                os.write(write_fd, str(exc).encode())
                code = 3
        finally:
            os._exit(code)
    os.close(write_fd)
    _, status = os.waitpid(pid, 0)
    message = _read_all(read_fd).decode()
    os.close(read_fd)
    assert os.WEXITSTATUS(status) == 3, message
    assert "could not be written" in message
    result = store.verify()
    assert result.ok and result.head.count == 3 and result.head.hash == before[-1].hash
    assert store.append(make_answer(n=3)).prev_hash == before[-1].hash


WRITER = """
import sys
from app.trail.sqlite import SqliteTrailStore
from tests.trail.conftest import make_answer
store = SqliteTrailStore(sys.argv[1])
for n in range(int(sys.argv[2])):
    store.append(make_answer(sys.argv[3], n, details={"pad": "x" * 8000}))
"""


@pytest.mark.slow
def test_verify_and_export_while_other_processes_append(runtime, tmp_path) -> None:
    add_people(runtime)
    path = runtime.trail.path
    runtime.trail.append(make_answer("ana", 0))  # create the file before the writers race
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), "60", who], cwd=ROOT)
        for who in ("ana", "bob")
    ]
    runner = CliRunner()
    checks = 0
    while any(w.poll() is None for w in writers) or checks < 3:
        result = runner.invoke(cli, ["trail", "verify", "--json", "--user", "carl"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["ok"] is True
        out = tmp_path / f"export-{checks}"
        result = runner.invoke(cli, ["trail", "export", "--out", str(out), "--user", "carl"])
        assert result.exit_code == 0, result.output
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["chain"]["ok"] is True
        lines = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
        assert [x["seq"] for x in lines] == list(range(1, len(lines) + 1))
        assert all(recompute_hash(x) == x["hash"] for x in lines)
        checks += 1
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    final = runtime.trail.verify()
    assert final.ok and final.head.count == 121
    assert checks >= 3
