"""The answer trail in PostgreSQL, for a shared deployment (``SIGHTLINE_TRAIL=postgresql://...``).

The same records, canonical JSON and hash chain as the SQLite store, so ``verify`` and exports
do not care where a trail lives. ``body`` is kept as ``text`` (``jsonb`` would reorder keys and
lose the exact bytes that were hashed); the columns used for queries are generated from it.
Writers serialise on a transaction-level advisory lock and read the head under it; a commit
returns after the WAL is flushed (``synchronous_commit`` is forced on for our sessions). PL/pgSQL
triggers refuse UPDATE, TRUNCATE, DELETE outside a recorded purge, and any INSERT that does not
extend the head.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from app.trail.chain import (
    GENESIS_HASH,
    ChainBase,
    Head,
    VerifyResult,
    chain_hash,
    check_anchor,
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
from app.trail.retention import check_purge_allowed, purge_summary, require_purge_event
from app.trail.store import StoredRecord, TrailQuery, keep_model, read_sql
from ingestion.errors import ConfigError, InputError, NotFoundError

LOCK_KEY = 0x5167_7472_6169_6C  # advisory lock id of "the trail head"; any constant works
_INHERITED: list[Any] = []  # connections a forked child must never use or close


def _generated(field: str) -> str:
    return f"text GENERATED ALWAYS AS ((body::jsonb) ->> '{field}') STORED"


MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_records",
        f"""
        CREATE TABLE trail_records (
            seq bigint PRIMARY KEY,
            body text NOT NULL,
            prev_hash text NOT NULL,
            hash text NOT NULL,
            id {_generated("id")},
            kind {_generated("kind")},
            user_name {_generated("user")},
            status {_generated("status")},
            time {_generated("time")},
            refers_to {_generated("refers_to")},
            appended_at {_generated("appended_at")}
        );
        CREATE UNIQUE INDEX trail_records_id ON trail_records (id);
        CREATE INDEX trail_records_user_time ON trail_records (user_name, time);
        CREATE INDEX trail_records_time ON trail_records (time);
        CREATE INDEX trail_records_refers_to ON trail_records (refers_to);
        CREATE TABLE trail_purges (
            through_seq bigint PRIMARY KEY,
            through_hash text NOT NULL,
            before text NOT NULL,
            purged_at text NOT NULL,
            by_user text NOT NULL,
            event_id text NOT NULL
        );
        CREATE FUNCTION trail_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the answer trail is append-only: % cannot be changed', TG_TABLE_NAME;
        END $$;
        CREATE FUNCTION trail_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.seq > (SELECT coalesce(max(through_seq), 0) FROM trail_purges) THEN
                RAISE EXCEPTION 'the answer trail is append-only: records cannot be deleted';
            END IF;
            RETURN OLD;
        END $$;
        CREATE FUNCTION trail_extend_head() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE last_seq bigint; last_hash text;
        BEGIN
            SELECT seq, hash INTO last_seq, last_hash FROM trail_records
                ORDER BY seq DESC LIMIT 1;
            IF last_seq IS NULL THEN
                SELECT through_seq, through_hash INTO last_seq, last_hash FROM trail_purges
                    ORDER BY through_seq DESC LIMIT 1;
            END IF;
            IF NEW.seq IS DISTINCT FROM coalesce(last_seq, 0) + 1
               OR NEW.prev_hash IS DISTINCT FROM coalesce(last_hash, '{GENESIS_HASH}') THEN
                RAISE EXCEPTION 'the answer trail only grows at its head';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER trail_records_no_update BEFORE UPDATE ON trail_records
            FOR EACH ROW EXECUTE FUNCTION trail_refuse_change();
        CREATE TRIGGER trail_records_no_truncate BEFORE TRUNCATE ON trail_records
            FOR EACH STATEMENT EXECUTE FUNCTION trail_refuse_change();
        CREATE TRIGGER trail_records_no_delete BEFORE DELETE ON trail_records
            FOR EACH ROW EXECUTE FUNCTION trail_refuse_delete();
        CREATE TRIGGER trail_records_extend_head BEFORE INSERT ON trail_records
            FOR EACH ROW EXECUTE FUNCTION trail_extend_head();
        CREATE TRIGGER trail_purges_no_update BEFORE UPDATE OR DELETE ON trail_purges
            FOR EACH ROW EXECUTE FUNCTION trail_refuse_change();
        CREATE TRIGGER trail_purges_no_truncate BEFORE TRUNCATE ON trail_purges
            FOR EACH STATEMENT EXECUTE FUNCTION trail_refuse_change();
        """,
    ),
)

_ROW = "seq, prev_hash, hash, body"
_RAW_ROW = "seq, convert_to(prev_hash, 'UTF8'), convert_to(hash, 'UTF8'), convert_to(body, 'UTF8')"


class PostgresTrailStore:
    """The answer trail in a PostgreSQL database. Implements ``app.trail.store.TrailStore``."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] = utc_now) -> None:
        """Use the database at ``url`` (tables are created on first use)."""
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:  # pragma: no cover - psycopg is a dependency
            raise ConfigError("SIGHTLINE_TRAIL: psycopg is not installed") from exc
        self.url = url
        self.clock = clock
        self._ready = False
        self._local = threading.local()

    # -- connections -------------------------------------------------------------------------

    def _open(self) -> Any:
        import psycopg

        try:
            con = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise TrailError(
                f"cannot reach the answer trail database: {exc}".strip(),
                hint="check SIGHTLINE_TRAIL and that the PostgreSQL server is up",
            ) from exc
        con.execute("SET synchronous_commit = on")
        return con

    def _shared(self) -> Any:
        local = self._local
        con = getattr(local, "con", None)
        if con is not None and local.pid == os.getpid() and not con.closed:
            return con
        if con is not None and local.pid != os.getpid():
            _INHERITED.append(con)
        local.con, local.pid = self._open(), os.getpid()
        return local.con

    def close(self) -> None:
        """Close this thread's connection (the next call opens a new one)."""
        con = getattr(self._local, "con", None)
        if con is not None and self._local.pid == os.getpid():
            con.close()
        self._local.con = None

    @contextlib.contextmanager
    def _connect(self, *, private: bool = False) -> Iterator[Any]:
        con = self._open() if private else self._shared()
        try:
            if not self._ready:
                self._migrate(con)
                self._ready = True
            yield con
        finally:
            if private:
                con.close()

    def _migrate(self, con: Any) -> None:
        with con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            con.execute(
                "CREATE TABLE IF NOT EXISTS trail_migrations (name text PRIMARY KEY, "
                "applied_at text)"
            )
            done = {r[0] for r in con.execute("SELECT name FROM trail_migrations").fetchall()}
            for name, sql in MIGRATIONS:
                if name not in done:
                    con.execute(sql)
                    con.execute(
                        "INSERT INTO trail_migrations VALUES (%s, %s)",
                        (name, iso_utc(self.clock())),
                    )

    # -- writing -----------------------------------------------------------------------------

    def append(self, record: AnswerRecord | Mapping[str, Any]) -> StoredRecord:
        """Validate, chain and durably store one record; see ``TrailStore.append``."""
        import psycopg

        data = parse_record(record).to_json()
        try:
            with self._connect() as con, con.transaction():
                con.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                return self._append_in(con, data)
        except psycopg.errors.UniqueViolation as exc:
            raise RecordError(
                f"a record with id {data['id']} is already in the trail; nothing was written"
            ) from exc
        except psycopg.errors.RaiseException as exc:
            raise AppendOnlyError(f"the answer trail refused the write: {exc}") from exc
        except psycopg.Error as exc:
            self.close()
            raise TrailWriteError(
                f"the answer trail could not be written ({exc}); nothing was stored",
                hint="check the trail database; the answer was not recorded",
            ) from exc

    def _append_in(self, con: Any, data: dict[str, Any]) -> StoredRecord:
        head = self._head_in(con)
        seq = head.seq + 1
        appended_at = iso_utc(self.clock())
        body = canonical_json({**data, "seq": seq, "appended_at": appended_at})
        digest = chain_hash(head.hash, body)
        con.execute(
            "INSERT INTO trail_records (seq, body, prev_hash, hash) VALUES (%s, %s, %s, %s)",
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

    # -- reading -----------------------------------------------------------------------------

    def _base_in(self, con: Any) -> ChainBase:
        row = con.execute(
            "SELECT through_seq, through_hash FROM trail_purges ORDER BY through_seq DESC LIMIT 1"
        ).fetchone()
        return ChainBase() if row is None else ChainBase(seq=int(row[0]), hash=row[1])

    def _head_in(self, con: Any) -> Head:
        row = con.execute(
            "SELECT seq, hash, (SELECT count(*) FROM trail_records) FROM trail_records "
            "ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if row is None:
            base = self._base_in(con)
            return Head(count=0, seq=base.seq, hash=base.hash)
        return Head(count=int(row[2]), seq=int(row[0]), hash=row[1])

    def head(self) -> Head:
        """The current chain head (count, last seq, its hash, and the last record's id)."""
        with self._connect() as con:
            head = self._head_in(con)
            if not head.count:
                return head
            row = con.execute("SELECT id FROM trail_records WHERE seq = %s", (head.seq,))
            return Head(head.count, head.seq, head.hash, row.fetchone()[0])

    @staticmethod
    def _records(rows: list[tuple[Any, ...]]) -> list[StoredRecord]:
        try:
            return [StoredRecord.from_row(*row) for row in rows]
        except (ValueError, KeyError) as exc:
            raise TrailError(f"a stored record cannot be read: {exc}") from exc

    def read(self, query: TrailQuery | None = None) -> list[StoredRecord]:
        """Records matching ``query``; see ``TrailStore.read``."""
        q = query or TrailQuery()
        sql, params = read_sql(f"SELECT {_ROW} FROM trail_records", q, "%s")
        with self._connect() as con:
            records = self._records(con.execute(sql, params).fetchall())
        return keep_model(records, q)

    def get(self, record_id: str) -> StoredRecord:
        """The record with this id or unique id prefix (8+ characters); NotFoundError if none."""
        with self._connect() as con:
            rows = con.execute(
                f"SELECT {_ROW} FROM trail_records WHERE id = %s", (record_id,)
            ).fetchall()
            if not rows and len(record_id) >= 8:
                rows = con.execute(
                    f"SELECT {_ROW} FROM trail_records WHERE id LIKE %s LIMIT 2",
                    (record_id.replace("%", "").replace("_", r"\_") + "%",),
                ).fetchall()
        if len(rows) > 1:
            raise InputError(f"'{record_id}' matches more than one record")
        if not rows:
            raise NotFoundError(
                f"no record '{record_id}' in the answer trail",
                hint="find ids with `sightline trail list`",
            )
        return self._records(rows)[0]

    def scan(self, after_seq: int = 0) -> Iterator[StoredRecord]:
        """Every record after ``after_seq`` in chain order, from one snapshot (for export)."""
        with self._connect(private=True) as con, con.transaction():
            con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            with con.cursor(name="trail_scan") as cursor:
                cursor.itersize = 2000
                cursor.execute(
                    f"SELECT {_ROW} FROM trail_records WHERE seq > %s ORDER BY seq", (after_seq,)
                )
                for row in cursor:
                    yield self._records([row])[0]

    # -- verification ------------------------------------------------------------------------

    def verify(self, anchor: Mapping[str, Any] | None = None, *, workers: int = 1) -> VerifyResult:
        """Check the whole chain (and an anchor, if given) from one consistent snapshot.

        ``workers`` is accepted for the interface; this store reads in one pass.
        """
        with self._connect(private=True) as con, con.transaction():
            con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            base = self._base_in(con)
            with con.cursor(name="trail_verify") as cursor:
                cursor.itersize = 5000
                cursor.execute(f"SELECT {_RAW_ROW} FROM trail_records ORDER BY seq")
                result = verify_chain(cursor, base)
            if result.ok and base.seq:
                self._check_purge_event(con, base, result)
            if anchor is not None:
                seq = int(anchor["seq"])
                row = con.execute(
                    "SELECT hash FROM trail_records WHERE seq = %s", (seq,)
                ).fetchone()
                hash_at = row[0] if row else (base.hash if seq == base.seq else None)
                check_anchor(result, dict(anchor), hash_at, base)
        return result

    def _check_purge_event(self, con: Any, base: ChainBase, result: VerifyResult) -> None:
        rows = con.execute(
            "SELECT body FROM trail_records WHERE kind = 'event' "
            "AND (body::jsonb) #>> '{details,action}' = 'purge' "
            "AND (body::jsonb) #>> '{details,through_seq}' = %s",
            (str(base.seq),),
        ).fetchall()
        require_purge_event((body for (body,) in rows), base, result)

    # -- retention ---------------------------------------------------------------------------

    def purge(self, before: date, *, user: str, role: str, retention_years: int) -> dict[str, Any]:
        """Drop the oldest records appended before ``before``; see ``SqliteTrailStore.purge``."""
        import psycopg

        check_purge_allowed(before, self.clock(), retention_years, lambda: self.verify().ok)
        limit = day_start_iso(before)
        try:
            with self._connect() as con, con.transaction():
                con.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                base = self._base_in(con)
                first_young, last = con.execute(
                    "SELECT min(seq) FILTER (WHERE appended_at >= %s), max(seq) FROM trail_records",
                    (limit,),
                ).fetchone()
                through = int(first_young) - 1 if first_young is not None else int(last or 0)
                if through <= base.seq:
                    return purge_summary(0, before, base.seq)
                count, through_hash = con.execute(
                    "SELECT (SELECT count(*) FROM trail_records WHERE seq <= %s), "
                    "(SELECT hash FROM trail_records WHERE seq = %s)",
                    (through, through),
                ).fetchone()
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
                    "INSERT INTO trail_purges VALUES (%s, %s, %s, %s, %s, %s)",
                    (through, through_hash, before.isoformat(), stored.appended_at, user, event.id),
                )
                con.execute("DELETE FROM trail_records WHERE seq <= %s", (through,))
        except psycopg.Error as exc:
            self.close()
            raise TrailWriteError(f"the purge failed and changed nothing: {exc}") from exc
        return purge_summary(count, before, through, through_hash, stored.id)
