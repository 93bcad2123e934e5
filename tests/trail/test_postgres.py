"""The PostgreSQL trail store against a real PostgreSQL server started for these tests.

The server comes from the Debian ``postgresql`` binaries on the machine (initdb into a temporary
folder, loopback only, trust auth); each test gets its own database.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from app.trail import TrailError, TrailQuery, canonical_json
from app.trail.anchor import make_anchor
from app.trail.backends import open_trail
from app.trail.sqlite import SqliteTrailStore
from tests.trail.conftest import make_answer
from tests.trail.test_known_hash import (
    KNOWN_ANSWER_HASH,
    KNOWN_REVIEW_HASH,
    fixed_clock,
    known_record,
    known_review,
)

pytestmark = pytest.mark.slow  # starts a PostgreSQL server (~5-10 s)


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server on loopback for this module; yields its base URL."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian postgresql; issue 6)")
    # Not under pytest's tmp folder: that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="sightline-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as 'postgres'
        shutil.chown(root, user="postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "sightline",
         "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"),
         "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=on", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql://sightline@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the test server."""
    name = f"trail_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return f"{pg_server}/{name}"


def sql(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as con:
        cur = con.execute(statement, params)
        return cur.fetchall() if cur.description else []


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_same_records_same_hashes_as_sqlite(pg_url, tmp_path) -> None:
    clock = Clock(datetime(2026, 5, 1, 12, tzinfo=UTC))
    pg = open_trail(tmp_path, pg_url)
    pg.clock = clock  # type: ignore[attr-defined]
    lite = SqliteTrailStore(tmp_path / "trail.sqlite", clock=clock)
    records = [make_answer("ana" if i % 2 else "bob", i) for i in range(5)]
    for r in records:
        a, b = pg.append(r), lite.append(r)
        assert (a.seq, a.hash, a.prev_hash) == (b.seq, b.hash, b.prev_hash)
    assert pg.verify().ok and pg.head() == lite.head()
    assert [r.id for r in pg.read(TrailQuery(user="ana"))] == [records[1].id, records[3].id]
    assert pg.get(records[2].id[:10]) == lite.get(records[2].id)
    assert canonical_json(next(iter(pg.scan(after_seq=4))).body()) == canonical_json(
        lite.get(records[4].id).body()
    )
    assert [r.seq for r in pg.read(TrailQuery(limit=2, newest_first=True))] == [5, 4]


def test_known_chain_hashes_in_postgres(pg_url, tmp_path) -> None:
    store = open_trail(tmp_path, pg_url)
    store.clock = fixed_clock()  # type: ignore[attr-defined]
    first, second = store.append(known_record()), store.append(known_review())
    assert (first.hash, second.hash) == (KNOWN_ANSWER_HASH, KNOWN_REVIEW_HASH)
    assert store.verify().ok


def test_new_kinds_are_stored_and_filtered(pg_url, tmp_path) -> None:
    from tests.trail.test_record import make_prediction

    store = open_trail(tmp_path, pg_url)
    store.append(make_answer(n=1))
    p = store.append(make_prediction())
    d = store.append(make_answer(n=2, kind="digest"))
    assert [r.id for r in store.read(TrailQuery(kind="prediction"))] == [p.id]
    assert [r.id for r in store.read(TrailQuery(kind="digest"))] == [d.id]
    assert store.get(p.id).record["feature_values"][0]["sequence"] == 18231


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE trail_records SET body = body",
        "DELETE FROM trail_records WHERE seq = 1",
        "TRUNCATE trail_records",
        "INSERT INTO trail_records (seq, body, prev_hash, hash) VALUES (1, '{}', 'x', 'y')",
        "TRUNCATE trail_purges",
    ],
)
def test_sql_level_edits_are_refused(pg_url, tmp_path, statement) -> None:
    store = open_trail(tmp_path, pg_url)
    store.append(make_answer(n=1))
    store.append(make_answer(n=2))
    with pytest.raises(psycopg.errors.RaiseException, match="append-only|grows at its head"):
        sql(pg_url, statement)
    assert store.verify().ok and store.head().count == 2


def test_tampering_is_named_and_anchor_catches_truncation(pg_url, tmp_path) -> None:
    store = open_trail(tmp_path, pg_url)
    ids = [store.append(make_answer(n=i)).id for i in range(1, 11)]
    anchor = make_anchor(store, by="carl")
    # An attacker with superuser rights switches the triggers off.
    sql(pg_url, "ALTER TABLE trail_records DISABLE TRIGGER USER")
    sql(pg_url, "UPDATE trail_records SET body = replace(body, '0.3041', '0.2041') WHERE seq = 4")
    bad = store.verify()
    assert not bad.ok and bad.first_break.seq == 4 and bad.first_break.id == ids[3]
    sql(pg_url, "UPDATE trail_records SET body = replace(body, '0.2041', '0.3041') WHERE seq = 4")
    assert store.verify().ok
    sql(pg_url, "DELETE FROM trail_records WHERE seq = 7")
    gap = store.verify()
    assert not gap.ok and gap.first_break.seq == 7
    sql(pg_url, "DELETE FROM trail_records WHERE seq >= 7")
    assert store.verify().ok  # the shorter chain is consistent ...
    cut = store.verify(anchor)  # ... but not what was anchored
    assert not cut.ok and cut.anchor["ok"] is False


def test_purge_and_forged_purge(pg_url, tmp_path) -> None:
    clock = Clock(datetime(2015, 6, 1, tzinfo=UTC))
    store = open_trail(tmp_path, pg_url)
    store.clock = clock  # type: ignore[attr-defined]
    old = [store.append(make_answer(n=i)) for i in range(3)]
    clock.now = datetime(2024, 1, 1, tzinfo=UTC)
    store.append(make_answer(n=9))
    clock.now = datetime(2026, 11, 28, tzinfo=UTC)
    with pytest.raises(Exception, match="younger than the 6-year"):
        store.purge(date(2024, 6, 1), user="carl", role="compliance", retention_years=6)
    result = store.purge(date(2017, 1, 1), user="carl", role="compliance", retention_years=6)
    assert result["purged"] == 3 and result["through_hash"] == old[-1].hash
    assert [r.seq for r in store.read()] == [4, 5] and store.verify().ok
    sql(pg_url, "ALTER TABLE trail_records DISABLE TRIGGER USER")
    sql(pg_url, "ALTER TABLE trail_purges DISABLE TRIGGER USER")
    forged = sql(pg_url, "SELECT hash FROM trail_records WHERE seq = 4")[0][0]
    sql(pg_url, "INSERT INTO trail_purges VALUES (4, %s, 'x', 'x', 'mallory', 'x')", (forged,))
    sql(pg_url, "DELETE FROM trail_records WHERE seq = 4")
    check = store.verify()
    assert not check.ok and "no purge event" in check.first_break.reason


def _writer(url: str, who: str, count: int) -> None:
    store = open_trail(Path("."), url)
    for n in range(count):
        store.append(make_answer(who, n))


def test_processes_append_concurrently_and_survive_sigkill(pg_url, tmp_path) -> None:
    pids = []
    for who in ("ana", "bob", "cleo"):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _writer(pg_url, who, 15)
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    assert [os.waitpid(p, 0)[1] for p in pids] == [0, 0, 0]
    store = open_trail(tmp_path, pg_url)
    result = store.verify()
    assert result.ok and result.checked == 45
    for _ in range(15):  # a writer killed at random moments leaves the chain intact
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            s = open_trail(Path("."), pg_url)
            try:
                while True:
                    os.write(write_fd, (s.append(make_answer("ana", 0)).id + "\n").encode())
            finally:
                os._exit(0)
        os.close(write_fd)
        time.sleep(0.02 + (pid % 7) / 100)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with os.fdopen(read_fd) as acks:
            acked = [line for line in acks.read().split("\n")[:-1] if line]
        stored = {r.id for r in store.scan()}
        assert set(acked) <= stored
    assert store.verify().ok


def test_setting_selects_postgres_and_cli_verifies(pg_url, monkeypatch) -> None:
    from click.testing import CliRunner

    from app.cli import cli
    from app.runtime import Runtime
    from app.settings import load_settings
    from tests.trail.conftest import add_people

    monkeypatch.setenv("SIGHTLINE_TRAIL", pg_url)
    rt = Runtime(load_settings())
    add_people(rt)
    rt.trail.append(make_answer("ana", 1))
    result = CliRunner().invoke(cli, ["trail", "verify", "--user", "carl"])
    assert result.exit_code == 0 and "ok: 1 record(s) verified" in result.stdout
    result = CliRunner().invoke(cli, ["trail", "list", "--json", "--user", "ana"])
    assert result.exit_code == 0 and '"user": "ana"' in result.stdout


def test_unreachable_server_is_a_clear_error(tmp_path) -> None:
    store = open_trail(tmp_path, f"postgresql://sightline@127.0.0.1:{_free_port()}/none")
    with pytest.raises(TrailError, match="cannot reach the answer trail database"):
        store.append(make_answer())
