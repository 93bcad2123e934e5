"""The answer trail in one SQLite file (WAL, synchronous=FULL): append-only, hash-chained.

Why SQLite: a commit in WAL mode with ``synchronous=FULL`` is fsynced before ``append`` returns,
and readers in other processes (``trail verify``/``export``) read a consistent snapshot while the
app keeps appending. Writers serialise on ``BEGIN IMMEDIATE`` and read the head inside that
transaction, so two processes can never fork the chain. Each record's queryable fields are
generated columns computed from the hashed body, so an index can never disagree with the record.

Append-only is enforced twice: the Python API has no update or delete, and SQL triggers abort any
UPDATE, any DELETE outside a recorded purge, and any INSERT that does not extend the chain head.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.trail.chain import (
    GENESIS_HASH,
    ChainBase,
    Head,
    RangeCheck,
    VerifyResult,
    chain_hash,
    check_anchor,
    check_range,
    stitch_ranges,
    verify_chain,
)
from app.trail.errors import AppendOnlyError, RecordError, TrailError, TrailWriteError
from app.trail.record import (
    AnswerRecord,
    canonical_json,
    day_start_iso,
    iso_utc,
    parse_record,
    purge_event,
    utc_now,
)
from app.trail.retention import (
    check_purge_allowed,
    purge_summary,
    require_purge_event,
)
from app.trail.store import StoredRecord, TrailQuery, keep_model, read_sql
from ingestion.errors import InputError, NotFoundError

BUSY_TIMEOUT_MS = 15_000
PARALLEL_MIN_RECORDS = 100_000  # below this, starting worker processes costs more than it saves
_INHERITED: list[sqlite3.Connection] = []  # connections a forked child must never use or close

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

_DAMAGED_HINT = "run `sightline trail verify` to find the damaged record"


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
    con.text_factory = bytes
    try:
        rows = con.execute(
            "SELECT seq, prev_hash, hash, body FROM records WHERE seq > ? AND seq <= ? "
            "ORDER BY seq",
            (lo, hi),
        )
        return check_range(rows, lo, hi)
    finally:
        con.close()


class SqliteTrailStore:
    """The answer trail in one SQLite file. Implements ``app.trail.store.TrailStore``."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        """Use (and on first write create) the trail at ``path``; ``clock`` stamps appends."""
        self.path = Path(path)
        self.clock = clock
        self._ready = False
        self._local = threading.local()

    # -- connections -------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """A new connection with the durability settings."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(
            self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        con.execute("PRAGMA synchronous = FULL")
        return con

    def _shared(self) -> sqlite3.Connection:
        """This thread's long-lived connection, kept open across calls.

        Closing the last connection to a WAL file checkpoints it, which would cost several
        fsyncs on every append.
        """
        local = self._local
        con: sqlite3.Connection | None = getattr(local, "con", None)
        if con is not None and local.pid == os.getpid():
            return con
        if con is not None:
            # Inherited across fork: SQLite forbids using it in the child, and closing it here
            # could release the parent's locks. Keep it unreferenced-but-alive, never touch it.
            _INHERITED.append(con)
        local.con, local.pid = self._open(), os.getpid()
        return local.con

    def _drop_shared(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None and self._local.pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                con.close()
        self._local.con = None

    def close(self) -> None:
        """Close this thread's connection (the next call opens a new one)."""
        self._drop_shared()

    @contextlib.contextmanager
    def _connect(self, *, private: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection: this thread's shared one, or a ``private`` one closed afterwards."""
        try:
            con = self._open() if private else self._shared()
            if not self._ready:
                self._migrate(con)
                self._ready = True
        except sqlite3.Error as exc:
            if not private:
                self._drop_shared()
            raise TrailError(
                f"cannot open the answer trail at {self.path}: {exc}",
                hint="check that the data directory exists and is writable",
            ) from exc
        try:
            yield con
        finally:
            if private:
                con.close()

    def _migrate(self, con: sqlite3.Connection) -> None:
        if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            con.execute("PRAGMA journal_mode = WAL")
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute(
                "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
            )
            done = {row[0] for row in con.execute("SELECT name FROM _migrations")}
            for name, sql in MIGRATIONS:
                if name in done:
                    continue
                for statement in _statements(sql):
                    con.execute(statement)
                con.execute("INSERT INTO _migrations VALUES (?, ?)", (name, iso_utc(self.clock())))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    # -- writing -----------------------------------------------------------------------------

    def append(self, record: AnswerRecord | Mapping[str, Any]) -> StoredRecord:
        """Validate, chain and durably store one record; see ``TrailStore.append``."""
        data = parse_record(record).to_json()
        with self._connect() as con:
            try:
                con.execute("BEGIN IMMEDIATE")
                stored = self._append_in(con, data)
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                self._drop_shared()  # after an I/O error start the next write afresh
                raise self._write_error(exc, data) from exc
        return stored

    def _append_in(self, con: sqlite3.Connection, data: dict[str, Any]) -> StoredRecord:
        """Insert ``data`` at the head, inside the caller's write transaction."""
        head = self._head_in(con)
        seq = head.seq + 1
        appended_at = iso_utc(self.clock())
        body = canonical_json({**data, "seq": seq, "appended_at": appended_at})
        digest = chain_hash(head.hash, body)
        con.execute(
            "INSERT INTO records (seq, body, prev_hash, hash) VALUES (?, ?, ?, ?)",
            (seq, body.decode("utf-8"), head.hash, digest),
        )
        return StoredRecord(
            seq=seq,
            id=data["id"],
            hash=digest,
            prev_hash=head.hash,
            appended_at=appended_at,
            record=data,
        )

    def _write_error(self, exc: sqlite3.Error, data: Mapping[str, Any]) -> Exception:
        text = str(exc)
        if isinstance(exc, sqlite3.IntegrityError) and "records.id" in text:
            return RecordError(
                f"a record with id {data['id']} is already in the trail; nothing was written",
                hint="give each record a fresh id (leave `id` unset to get one)",
            )
        if "append-only" in text or "grows at its head" in text:
            return AppendOnlyError(f"the answer trail refused the write: {text}")
        return TrailWriteError(
            f"the answer trail could not be written ({text}); nothing was stored",
            hint="free disk space or fix the data directory; the answer was not recorded",
        )

    # -- reading -----------------------------------------------------------------------------

    def _base_in(self, con: sqlite3.Connection) -> ChainBase:
        row = con.execute(
            "SELECT through_seq, through_hash FROM purges ORDER BY through_seq DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return ChainBase()
        seq, hash_ = row
        return ChainBase(seq=int(seq), hash=hash_.decode() if isinstance(hash_, bytes) else hash_)

    def _head_in(self, con: sqlite3.Connection) -> Head:
        row = con.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            base = self._base_in(con)
            return Head(count=0, seq=base.seq, hash=base.hash)
        count = con.execute("SELECT count(*) FROM records").fetchone()[0]
        hash_ = row[1].decode() if isinstance(row[1], bytes) else row[1]
        return Head(count=int(count), seq=int(row[0]), hash=hash_)

    def head(self) -> Head:
        """The current chain head (count, last seq, its hash, and the last record's id)."""
        with self._connect() as con:
            head = self._head_in(con)
            if head.count:
                row = con.execute("SELECT body FROM records WHERE seq = ?", (head.seq,)).fetchone()
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    return Head(head.count, head.seq, head.hash, json.loads(row[0])["id"])
            return head

    def _rows_to_records(self, rows: list[tuple[Any, ...]]) -> list[StoredRecord]:
        try:
            return [StoredRecord.from_row(*row) for row in rows]
        except (ValueError, KeyError) as exc:
            raise TrailError(f"a stored record cannot be read: {exc}", hint=_DAMAGED_HINT) from exc

    def read(self, query: TrailQuery | None = None) -> list[StoredRecord]:
        """Records matching ``query``; see ``TrailStore.read``."""
        q = query or TrailQuery()
        sql, params = read_sql("SELECT seq, prev_hash, hash, body FROM records", q, "?")
        with self._connect() as con:
            try:
                rows = con.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise TrailError(
                    f"cannot read the answer trail: {exc}", hint=_DAMAGED_HINT
                ) from exc
        return keep_model(self._rows_to_records(rows), q)

    def get(self, record_id: str) -> StoredRecord:
        """The record with this id or unique id prefix (8+ characters); NotFoundError if none."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT seq, prev_hash, hash, body FROM records WHERE id = ?", (record_id,)
            ).fetchall()
            if not rows and len(record_id) >= 8:
                rows = con.execute(
                    "SELECT seq, prev_hash, hash, body FROM records WHERE id >= ? AND id < ? "
                    "LIMIT 2",
                    (record_id, record_id + "\uffff"),
                ).fetchall()
        if len(rows) > 1:
            raise InputError(
                f"'{record_id}' matches more than one record", hint="give more of the record id"
            )
        if not rows:
            raise NotFoundError(
                f"no record '{record_id}' in the answer trail",
                hint="find ids with `sightline trail list`",
            )
        return self._rows_to_records(rows)[0]

    def scan(self, after_seq: int = 0) -> Iterator[StoredRecord]:
        """Every record after ``after_seq`` in chain order, from one snapshot (for export)."""
        with self._connect(private=True) as con:
            con.execute("BEGIN")
            try:
                cursor = con.execute(
                    "SELECT seq, prev_hash, hash, body FROM records WHERE seq > ? ORDER BY seq",
                    (after_seq,),
                )
                for row in cursor:
                    yield self._rows_to_records([row])[0]
            finally:
                con.execute("COMMIT")

    # -- verification ------------------------------------------------------------------------

    def verify(self, anchor: Mapping[str, Any] | None = None, *, workers: int = 1) -> VerifyResult:
        """Check the whole chain (and an anchor, if given) from one consistent snapshot.

        With ``workers`` > 1 and at least ``PARALLEL_MIN_RECORDS`` records, ranges of positions
        are read and hashed by that many processes and stitched at their boundaries (records
        appended meanwhile are outside the checked range either way).
        """
        with self._connect(private=True) as con:
            con.text_factory = bytes
            con.execute("BEGIN")
            try:
                base = self._base_in(con)
                top = con.execute("SELECT max(seq) FROM records").fetchone()[0] or base.seq
                if workers > 1 and top - base.seq >= PARALLEL_MIN_RECORDS:
                    result = self._verify_parallel(base, int(top), workers)
                else:
                    rows = con.execute(
                        "SELECT seq, prev_hash, hash, body FROM records ORDER BY seq"
                    )
                    result = verify_chain(rows, base)
                if result.ok and base.seq:
                    self._check_purge_event(con, base, result)
                if anchor is not None:
                    row = con.execute(
                        "SELECT hash FROM records WHERE seq = ?", (int(anchor["seq"]),)
                    ).fetchone()
                    hash_at = row[0].decode() if row else None
                    if row is None and int(anchor["seq"]) == base.seq:
                        hash_at = base.hash
                    check_anchor(result, dict(anchor), hash_at, base)
            except sqlite3.DatabaseError as exc:
                raise TrailError(
                    f"the answer trail file is damaged and cannot be read: {exc}",
                    hint="restore the trail from a backup and verify it against your last anchor",
                ) from exc
            finally:
                con.execute("COMMIT")
        return result

    def _verify_parallel(self, base: ChainBase, top: int, workers: int) -> VerifyResult:
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

    def _check_purge_event(
        self, con: sqlite3.Connection, base: ChainBase, result: VerifyResult
    ) -> None:
        """The latest purge must be recorded in the chain itself (see ``require_purge_event``)."""
        rows = con.execute(
            "SELECT body FROM records WHERE kind = 'event' "
            "AND json_extract(body, '$.details.action') = 'purge' "
            "AND json_extract(body, '$.details.through_seq') = ?",
            (base.seq,),
        ).fetchall()
        require_purge_event((body for (body,) in rows), base, result)

    # -- retention ---------------------------------------------------------------------------

    def purge(self, before: date, *, user: str, role: str, retention_years: int) -> dict[str, Any]:
        """Drop the oldest records appended before ``before``; see ``TrailStore.purge``.

        Refuses when ``before`` is later than the retention cutoff (records that young must be
        kept) or when the chain does not verify (a damaged trail is evidence, not garbage). The
        purge itself is appended as an ``event`` record, so the chain shows what was removed.
        """
        check_purge_allowed(before, self.clock(), retention_years, lambda: self.verify().ok)
        limit = day_start_iso(before)
        with self._connect(private=True) as con:
            con.execute("PRAGMA secure_delete = ON")  # purged content is overwritten, not left
            try:
                con.execute("BEGIN IMMEDIATE")
                base = self._base_in(con)
                first_young = con.execute(
                    "SELECT min(seq) FROM records WHERE appended_at >= ?", (limit,)
                ).fetchone()[0]
                through = (
                    int(first_young) - 1
                    if first_young is not None
                    else int(con.execute("SELECT max(seq) FROM records").fetchone()[0] or 0)
                )
                if through <= base.seq:
                    con.execute("ROLLBACK")
                    return purge_summary(0, before, base.seq)
                count = con.execute(
                    "SELECT count(*) FROM records WHERE seq <= ?", (through,)
                ).fetchone()[0]
                through_hash = con.execute(
                    "SELECT hash FROM records WHERE seq = ?", (through,)
                ).fetchone()[0]
                event = purge_event(
                    user=user,
                    role=role,
                    before=before,
                    through_seq=through,
                    through_hash=through_hash,
                    count=count,
                    retention_years=retention_years,
                )
                stored = self._append_in(con, event.to_json())
                con.execute(
                    "INSERT INTO purges VALUES (?, ?, ?, ?, ?, ?)",
                    (through, through_hash, before.isoformat(), stored.appended_at, user, event.id),
                )
                con.execute("DELETE FROM records WHERE seq <= ?", (through,))
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise TrailWriteError(f"the purge failed and changed nothing: {exc}") from exc
        return purge_summary(count, before, through, through_hash, stored.id)
