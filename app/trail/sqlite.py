"""The answer trail in one SQLite file (WAL, synchronous=FULL): the SQLite dialect of the chain.

Why SQLite: a commit in WAL mode with ``synchronous=FULL`` is fsynced before ``append`` returns,
and readers in other processes (``trail verify``/``export``) read a consistent snapshot while the
app keeps appending. Writers serialise on ``BEGIN IMMEDIATE`` and read the head inside that
transaction, so two processes can never fork the chain. Each record's queryable fields are
generated columns computed from the hashed body, so an index can never disagree with the record.

Append-only is enforced twice: the store's API has no update or delete, and SQL triggers abort
any UPDATE, any DELETE outside a recorded purge, and any INSERT that does not extend the head.
The chain steps themselves are ``app.trail.chained.ChainedStore``; this module is what differs.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from app.trail.chain import (
    GENESIS_HASH,
    ChainBase,
    RangeCheck,
    VerifyResult,
    check_range,
    stitch_ranges,
)
from app.trail.chained import ChainedStore
from app.trail.record import utc_now

BUSY_TIMEOUT_MS = 15_000
PARALLEL_MIN_RECORDS = 100_000  # below this, starting worker processes costs more than it saves
RAW_COLUMNS = (
    "seq, CAST(prev_hash AS BLOB), CAST(hash AS BLOB), CAST(body AS BLOB)"  # bytes, no decoding
)

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_records",
        f"""
        CREATE TABLE records (
            seq INTEGER PRIMARY KEY,
            body TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            id TEXT GENERATED ALWAYS AS (json_extract(body, '$.id')) VIRTUAL,
            kind TEXT GENERATED ALWAYS AS (json_extract(body, '$.kind')) VIRTUAL,
            user_name TEXT GENERATED ALWAYS AS (json_extract(body, '$.user')) VIRTUAL,
            status TEXT GENERATED ALWAYS AS (json_extract(body, '$.status')) VIRTUAL,
            time TEXT GENERATED ALWAYS AS (json_extract(body, '$.time')) VIRTUAL,
            refers_to TEXT GENERATED ALWAYS AS (json_extract(body, '$.refers_to')) VIRTUAL,
            appended_at TEXT GENERATED ALWAYS AS (json_extract(body, '$.appended_at')) VIRTUAL
        );
        CREATE UNIQUE INDEX records_id ON records(id);
        CREATE INDEX records_user_time ON records(user_name, time);
        CREATE INDEX records_time ON records(time);
        CREATE INDEX records_refers_to ON records(refers_to);
        CREATE TABLE purges (
            through_seq INTEGER PRIMARY KEY,
            through_hash TEXT NOT NULL,
            before TEXT NOT NULL,
            purged_at TEXT NOT NULL,
            by_user TEXT NOT NULL,
            event_id TEXT NOT NULL
        );
        CREATE TRIGGER records_no_update BEFORE UPDATE ON records BEGIN
            SELECT RAISE(ABORT, 'the answer trail is append-only: records cannot be changed');
        END;
        CREATE TRIGGER records_no_delete BEFORE DELETE ON records
        WHEN OLD.seq > (SELECT coalesce(max(through_seq), 0) FROM purges) BEGIN
            SELECT RAISE(ABORT, 'the answer trail is append-only: records cannot be deleted');
        END;
        CREATE TRIGGER records_extend_head BEFORE INSERT ON records
        WHEN NEW.seq IS NOT coalesce(
                (SELECT max(seq) FROM records), (SELECT max(through_seq) FROM purges), 0) + 1
          OR NEW.prev_hash IS NOT coalesce(
                (SELECT hash FROM records ORDER BY seq DESC LIMIT 1),
                (SELECT through_hash FROM purges ORDER BY through_seq DESC LIMIT 1),
                '{GENESIS_HASH}')
        BEGIN
            SELECT RAISE(ABORT, 'the answer trail only grows at its head');
        END;
        CREATE TRIGGER purges_no_update BEFORE UPDATE ON purges BEGIN
            SELECT RAISE(ABORT, 'the answer trail is append-only: purges cannot be changed');
        END;
        CREATE TRIGGER purges_no_delete BEFORE DELETE ON purges BEGIN
            SELECT RAISE(ABORT, 'the answer trail is append-only: purges cannot be deleted');
        END;
        """,
    ),
)


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into complete statements (triggers hold ``;`` inside them)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        yield pending.strip()


def check_file_range(path: str, lo: int, hi: int) -> RangeCheck:
    """Verify positions ``lo < seq <= hi`` of the trail file at ``path`` (a worker process)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            f"SELECT {RAW_COLUMNS} FROM records WHERE seq > ? AND seq <= ? ORDER BY seq", (lo, hi)
        )
        return check_range(rows, lo, hi)
    finally:
        con.close()


class SqliteDialect:
    """SQLite: one file, WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE`` as the writer lock."""

    records = "records"
    purges = "purges"
    migrations_table = "_migrations"
    migrations = MIGRATIONS
    mark = "?"
    raw_columns = RAW_COLUMNS
    prefix_where = "id >= ? AND id < ?"  # a range, so the unique index on id serves it
    write_hint = "free disk space or fix the data directory; the answer was not recorded"
    error = sqlite3.Error

    def __init__(self, path: Path) -> None:
        """The dialect of the trail file at ``path``."""
        self.path = Path(path)
        self.where = str(self.path)

    def connect(self) -> sqlite3.Connection:
        """A new connection: autocommit (we open transactions), FULL sync, 15 s busy timeout."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(
            self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        con.execute("PRAGMA synchronous = FULL")
        return con

    def before_migrate(self, con: sqlite3.Connection) -> None:
        """WAL mode (kept in the file; it cannot be switched inside a transaction)."""
        if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            con.execute("PRAGMA journal_mode = WAL")

    def run_script(self, con: sqlite3.Connection, script: str) -> None:
        """Run the script's statements one by one inside the caller's transaction."""
        for statement in _statements(script):
            con.execute(statement)

    @contextlib.contextmanager
    def writing(self, con: sqlite3.Connection) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (fsynced), rolled back on any error."""
        con.execute("BEGIN IMMEDIATE")
        try:
            yield
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def snapshot(self, con: sqlite3.Connection) -> Iterator[None]:
        """A read transaction: WAL readers keep their snapshot while writers append."""
        con.execute("BEGIN")
        try:
            yield
        finally:
            with contextlib.suppress(sqlite3.Error):  # ending a read cannot lose anything
                con.execute("COMMIT")

    def rows(
        self, con: sqlite3.Connection, sql: str, params: tuple[Any, ...] = (), *, batch: int
    ) -> sqlite3.Cursor:
        """A cursor over ``sql`` (SQLite steps through rows as they are read)."""
        return con.execute(sql, params)

    def json_text(self, *path: str) -> str:
        """``CAST(json_extract(body, '$.a.b') AS TEXT)``."""
        return f"CAST(json_extract(body, '$.{'.'.join(path)}') AS TEXT)"

    def prefix_params(self, prefix: str) -> tuple[Any, ...]:
        """The range ``[prefix, prefix + U+FFFF)``."""
        return (prefix, prefix + "\uffff")

    def is_duplicate_id(self, exc: Exception) -> bool:
        """The unique index ``records_id`` refused the row."""
        return isinstance(exc, sqlite3.IntegrityError) and "records.id" in str(exc)

    def before_purge(self, con: sqlite3.Connection) -> None:
        """Purged content is overwritten in the file, not left in free pages."""
        con.execute("PRAGMA secure_delete = ON")

    def verify_parallel(self, base: ChainBase, top: int, workers: int) -> VerifyResult | None:
        """Ranges of positions read and hashed by worker processes, stitched at the boundaries.

        None (verify in one pass) below ``PARALLEL_MIN_RECORDS``, where starting processes costs
        more than it saves.
        """
        if top - base.seq < PARALLEL_MIN_RECORDS:
            return None
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        step = -(-(top - base.seq) // workers)
        bounds = [(lo, min(lo + step, top)) for lo in range(base.seq, top, step)]
        # fork is cheapest (the workers need no imports), but forking a process that runs other
        # threads (the app) can deadlock its children: there, use a fork server.
        method = "fork" if threading.active_count() == 1 else "forkserver"
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(max_workers=len(bounds), mp_context=context) as pool:
            lows, highs = [lo for lo, _ in bounds], [hi for _, hi in bounds]
            parts = list(pool.map(check_file_range, [str(self.path)] * len(bounds), lows, highs))
        return stitch_ranges(parts, base)


class SqliteTrailStore(ChainedStore):
    """The answer trail in one SQLite file. Implements ``app.trail.store.TrailStore``."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        """Use (and on first write create) the trail at ``path``; ``clock`` stamps appends."""
        self.path = Path(path)
        super().__init__(SqliteDialect(self.path), clock=clock)
