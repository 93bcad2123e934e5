"""The SQLite trail store: append, read, filters, chain links, and append-only at every level."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, date, datetime

import pytest

from app.trail import GENESIS_HASH, RecordError, TrailQuery, TrailStore, canonical_json
from app.trail.backends import open_trail
from app.trail.sqlite import SqliteTrailStore
from ingestion.errors import ConfigError, InputError, NotFoundError
from tests.trail.conftest import make_answer


def test_append_chains_each_record_to_the_previous(store) -> None:
    first = store.append(make_answer(n=1))
    second = store.append(make_answer(n=2))
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    # The hash is reproducible by anyone from the documented formula.
    body = json.dumps(second.body(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256((first.hash + body).encode()).hexdigest() == second.hash
    assert store.head().seq == 2 and store.head().hash == second.hash
    assert store.head().id == second.id
    result = store.verify()
    assert result.ok and result.checked == 2


def test_is_a_trail_store_and_has_no_edit_path(store) -> None:
    assert isinstance(store, TrailStore)
    public = {name for name in dir(store) if not name.startswith("_")}
    assert not {n for n in public if any(w in n for w in ("update", "delete", "edit", "set"))}


def test_read_back_is_what_was_appended(store) -> None:
    record = make_answer()
    stored = store.append(record)
    again = store.get(stored.id)
    assert again == stored
    assert again.model() == record
    assert canonical_json(again.body()) == canonical_json(stored.body())
    assert store.get(stored.id[:10]).id == stored.id
    with pytest.raises(NotFoundError):
        store.get("0" * 32)


def test_filters(store) -> None:
    store.append(make_answer("ana", 1, time=datetime(2026, 1, 5, 9, tzinfo=UTC)))
    store.append(make_answer("bob", 2, time=datetime(2026, 1, 6, 23, 59, tzinfo=UTC)))
    store.append(
        make_answer(
            "ana",
            3,
            status="refused",
            time=datetime(2026, 2, 1, tzinfo=UTC),
            versions={"pd_model": "pd@2"},
        )
    )

    def questions(**kw):
        return [r.record["question"][-3:-1] for r in store.read(TrailQuery(**kw))]

    assert questions() == ["#1", "#2", "#3"]
    assert questions(user="ana") == ["#1", "#3"]
    assert questions(status="refused") == ["#3"]
    assert questions(start=date(2026, 1, 6), end=date(2026, 1, 6)) == ["#2"]
    assert questions(end=date(2026, 1, 31)) == ["#1", "#2"]
    assert questions(model="pd@2") == ["#3"]
    assert questions(model="pd@1") == ["#1", "#2"]
    assert questions(limit=1, newest_first=True) == ["#3"]
    assert questions(kind="review") == []


def test_duplicate_id_and_bad_records_write_nothing(store) -> None:
    stored = store.append(make_answer())
    with pytest.raises(RecordError, match="already in the trail"):
        store.append(make_answer(id=stored.id))
    with pytest.raises(RecordError):
        store.append({"user": "ana", "role": "analyst", "status": "answered", "bogus": 1})
    assert store.head().count == 1 and store.verify().ok


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE records SET body = replace(body, 'AAPL', 'MSFT') WHERE seq = 1",
        "UPDATE records SET hash = 'x'",
        "DELETE FROM records WHERE seq = 1",
        "DELETE FROM records",
        "INSERT INTO records (seq, body, prev_hash, hash) VALUES (1, '{}', 'x', 'y')",
        "INSERT INTO records (seq, body, prev_hash, hash) "
        f"VALUES (9, '{{}}', '{GENESIS_HASH}', 'y')",
    ],
)
def test_sql_level_edits_are_refused(store, sql) -> None:
    store.append(make_answer(n=1))
    store.append(make_answer(n=2))
    con = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only|only grows at its head"):
        con.execute(sql)
    con.close()
    assert store.verify().ok and store.head().count == 2


def test_settings_pick_the_store(tmp_path, runtime) -> None:
    assert isinstance(open_trail(tmp_path), SqliteTrailStore)
    assert runtime.trail.path == runtime.settings.home / "trail.sqlite"
    from app.trail.postgres import PostgresTrailStore

    for url in ("postgresql://trail@localhost/sightline", "postgres://trail@localhost/x"):
        pg = open_trail(tmp_path, url)  # connects on first use
        assert isinstance(pg, PostgresTrailStore) and isinstance(pg, TrailStore)
    for bogus in ("mongodb://x", "sqlite3", "", "SQLITE"):
        with pytest.raises(ConfigError, match="unknown answer-trail store"):
            open_trail(tmp_path, bogus)


def test_the_registry_is_the_one_place_a_store_is_named(tmp_path, monkeypatch) -> None:
    from app.trail import TRAIL_STORES

    chosen: list[tuple[object, str]] = []

    def memory(home, setting):  # noqa: ANN001, ANN202
        chosen.append((home, setting))
        return SqliteTrailStore(tmp_path / "other.sqlite")

    monkeypatch.setitem(TRAIL_STORES, "elsewhere", memory)
    store = open_trail(tmp_path, "elsewhere://somewhere")
    assert chosen == [(tmp_path, "elsewhere://somewhere")] and isinstance(store, TrailStore)


def test_the_interface_module_knows_no_database() -> None:
    import subprocess
    import sys

    code = (
        "import sys, app.trail.store, app.trail.backends; "
        "print(sorted(m for m in sys.modules if m in "
        "('app.trail.sqlite', 'app.trail.postgres', 'sqlite3', 'psycopg')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_wal_and_full_sync_are_in_force(store) -> None:
    store.append(make_answer())
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    with store._connect() as con:  # the store's own connections
        assert con.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_ambiguous_prefix(store) -> None:
    store.append(make_answer(id="abcdef0011"))
    store.append(make_answer(id="abcdef0022"))
    with pytest.raises(InputError, match="more than one"):
        store.get("abcdef00")


def test_threads_share_one_store_safely(store) -> None:
    # The app serves several sessions from one Runtime: each thread appends through its own
    # connection and writers queue on the head, so the chain never forks.
    from concurrent.futures import ThreadPoolExecutor

    def work(t: int) -> list[int]:
        return [store.append(make_answer(f"user{t}", i)).seq for i in range(8)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        seqs = [s for batch in pool.map(work, range(4)) for s in batch]
    assert sorted(seqs) == list(range(1, 33))
    result = store.verify()
    assert result.ok and result.checked == 32


@pytest.mark.slow
def test_parallel_verify_agrees_with_one_pass(store, monkeypatch) -> None:
    import app.trail.sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "PARALLEL_MIN_RECORDS", 1)  # real processes, small trail
    for i in range(30):
        store.append(make_answer(n=i))
    serial, parallel = store.verify(), store.verify(workers=3)
    assert parallel.ok and parallel.to_json() == serial.to_json()
    con = sqlite3.connect(store.path)
    con.execute("DROP TRIGGER records_no_update")
    con.execute("UPDATE records SET body = replace(body, 'AAPL', 'AAPM') WHERE seq = 11")
    con.commit()
    con.close()
    broken = store.verify(workers=3)
    assert not broken.ok and broken.first_break.seq == 11
    assert broken.first_break.seq == store.verify().first_break.seq
