"""The answer trail in PostgreSQL, for a shared deployment: the PostgreSQL dialect of the chain.

The same records, canonical JSON and hash chain as the SQLite store (``ChainedStore`` holds the
chain steps for both), so ``verify`` and exports do not care where a trail lives. ``body`` is
kept as ``text`` (``jsonb`` would reorder keys and lose the exact bytes that were hashed); the
columns used for queries are generated from it. Writers serialise on a transaction-level
advisory lock and read the head under it; a commit returns after the WAL is flushed
(``synchronous_commit`` is forced on for our sessions). PL/pgSQL triggers refuse UPDATE,
TRUNCATE, DELETE outside a recorded purge, and any INSERT that does not extend the head.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import psycopg

from app.trail.chain import GENESIS_HASH, ChainBase, VerifyResult
from app.trail.chained import ChainedStore
from app.trail.errors import TrailError
from app.trail.record import utc_now

LOCK_KEY = 0x5167_7472_6169_6C  # advisory lock id of "the trail head"; any constant works
RAW_COLUMNS = (
    "seq, convert_to(prev_hash, 'UTF8'), convert_to(hash, 'UTF8'), convert_to(body, 'UTF8')"
)


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


def _without_password(url: str) -> str:
    """``url`` as ``postgresql://user@host:port/db`` for messages (never the password)."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "the PostgreSQL trail database"
    where = f"{parts.get('host', '')}:{parts.get('port', '5432')}/{parts.get('dbname', '')}"
    return f"postgresql://{parts.get('user', '')}@{where}"


class PostgresDialect:
    """PostgreSQL: ``trail_*`` tables, an advisory lock as the writer lock, server-side cursors."""

    records = "trail_records"
    purges = "trail_purges"
    migrations_table = "trail_migrations"
    migrations = MIGRATIONS
    mark = "%s"
    raw_columns = RAW_COLUMNS
    prefix_where = "starts_with(id, %s)"
    write_hint = "check the trail database; the answer was not recorded"
    error = psycopg.Error

    def __init__(self, url: str) -> None:
        """The dialect of the database at ``url``."""
        self.url = url
        self.where = _without_password(url)

    def connect(self) -> psycopg.Connection[Any]:
        """A new autocommit connection (we open transactions) with ``synchronous_commit=on``."""
        try:
            con = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise TrailError(
                f"cannot reach the answer trail database: {exc}".strip(),
                hint="check SIGHTLINE_TRAIL and that the PostgreSQL server is up",
            ) from exc
        con.execute("SET synchronous_commit = on")
        return con

    def before_migrate(self, con: psycopg.Connection[Any]) -> None:
        """Nothing: PostgreSQL needs no settings outside the migration's transaction."""

    def run_script(self, con: psycopg.Connection[Any], script: str) -> None:
        """The whole script in one call (the server splits it)."""
        con.execute(script)  # type: ignore[arg-type]  # our own constant DDL, not user input

    @contextlib.contextmanager
    def writing(self, con: psycopg.Connection[Any]) -> Iterator[None]:
        """A transaction that first takes the trail's advisory lock (released at its end)."""
        with con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            yield

    @contextlib.contextmanager
    def snapshot(self, con: psycopg.Connection[Any]) -> Iterator[None]:
        """A ``REPEATABLE READ, READ ONLY`` transaction."""
        with con.transaction():
            con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

    def rows(
        self, con: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = (), *, batch: int
    ) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql`` through a server-side cursor, ``batch`` rows per round trip."""
        with con.cursor(name="trail_rows") as cursor:
            cursor.itersize = batch
            cursor.execute(sql, params)  # type: ignore[arg-type]  # built from our templates
            yield from cursor

    def json_text(self, *path: str) -> str:
        """``(body::jsonb) #>> '{a,b}'``."""
        return f"(body::jsonb) #>> '{{{','.join(path)}}}'"

    def prefix_params(self, prefix: str) -> tuple[Any, ...]:
        """The prefix itself."""
        return (prefix,)

    def is_duplicate_id(self, exc: Exception) -> bool:
        """The unique index ``trail_records_id`` refused the row."""
        return isinstance(exc, psycopg.errors.UniqueViolation)

    def before_purge(self, con: psycopg.Connection[Any]) -> None:
        """Nothing: deleted rows are vacuumed by the server."""

    def verify_parallel(self, base: ChainBase, top: int, workers: int) -> VerifyResult | None:
        """None: this dialect verifies in one pass through a server-side cursor."""
        return None


class PostgresTrailStore(ChainedStore):
    """The answer trail in a PostgreSQL database. Implements ``app.trail.store.TrailStore``."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] = utc_now) -> None:
        """Use the database at ``url`` (tables are created on first use)."""
        self.url = url
        super().__init__(PostgresDialect(url), clock=clock)
