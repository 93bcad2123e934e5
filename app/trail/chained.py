"""The chained store: the hash-chain steps written once, over a small dialect per database.

``ChainedStore`` appends (validate, read the head under the writer lock, hash, insert), reads,
verifies from one snapshot and purges; it implements ``app.trail.store.TrailStore``. What a
database adds is a ``Dialect``: its table names and placeholder, its connection, how it takes
the writer lock and a read snapshot, how it streams rows, and its durability settings. SQLite
(``app.trail.sqlite``) and PostgreSQL (``app.trail.postgres``) are the two dialects.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, Protocol

from app.trail.chain import ChainBase, Head, VerifyResult, chain_hash, check_anchor, verify_chain
from app.trail.errors import AppendOnlyError, RecordError, TrailError, TrailWriteError
from app.trail.record import (
    AnswerRecord,
    canonical_json,
    day_end_iso,
    day_start_iso,
    iso_utc,
    parse_record,
    purge_event,
    utc_now,
)
from app.trail.retention import check_purge_allowed, purge_summary, require_purge_event
from app.trail.store import StoredRecord, TrailQuery
from ingestion.errors import InputError, NotFoundError

_DAMAGED_HINT = "run `sightline trail verify` to find the damaged record"
_INHERITED: list[Any] = []  # connections a forked child must never use or close


class Dialect(Protocol):
    """What one database adds to the chained store: names, SQL text, connection, transactions.

    SQL given to a connection's ``execute`` or to ``rows`` uses ``mark`` as its placeholder.
    """

    records: str  # table of records: seq, body, prev_hash, hash and columns generated from body
    purges: str  # table of purges: through_seq, through_hash, before, purged_at, by_user, event_id
    migrations_table: str
    migrations: tuple[tuple[str, str], ...]  # (name, script), applied once each, in order
    mark: str  # the driver's placeholder
    raw_columns: str  # seq, prev_hash, hash, body, the last three as bytes (what verify hashes)
    prefix_where: str  # condition: id starts with the parameters of ``prefix_params``
    write_hint: str  # what to do when a write fails
    where: str  # the file or server, for messages

    @property
    def error(self) -> type[Exception]:
        """The driver's base error class (what the store translates into ours)."""
        ...

    def connect(self) -> Any:
        """A new connection with the durability settings in force."""
        ...

    def before_migrate(self, con: Any) -> None:
        """Settings that must be made outside a transaction, before migrating."""
        ...

    def run_script(self, con: Any, script: str) -> None:
        """Run one migration script (several statements)."""
        ...

    def writing(self, con: Any) -> contextlib.AbstractContextManager[None]:
        """A write transaction holding the trail's writer lock; commits when the block ends."""
        ...

    def snapshot(self, con: Any) -> contextlib.AbstractContextManager[None]:
        """A read transaction: every read inside it sees the same committed state."""
        ...

    def rows(self, con: Any, sql: str, params: tuple[Any, ...] = (), *, batch: int) -> Any:
        """The rows of ``sql``, streamed where the database can (a large trail never in memory)."""
        ...

    def json_text(self, *path: str) -> str:
        """The SQL expression of the text at ``path`` inside ``body`` (e.g. details, action)."""
        ...

    def prefix_params(self, prefix: str) -> tuple[Any, ...]:
        """The parameters of ``prefix_where`` for an id prefix."""
        ...

    def is_duplicate_id(self, exc: Exception) -> bool:
        """True when ``exc`` is the unique index on ``id`` refusing a second record."""
        ...

    def before_purge(self, con: Any) -> None:
        """Settings for the purge's own connection (e.g. overwrite deleted content)."""
        ...

    def verify_parallel(self, base: ChainBase, top: int, workers: int) -> VerifyResult | None:
        """Verify the positions after ``base`` up to ``top`` in ``workers`` processes, or None."""
        ...


def read_sql(select: str, query: TrailQuery, mark: str) -> tuple[str, list[Any]]:
    """The SELECT for ``query``'s filters, order and limit; ``mark`` is the placeholder.

    ``select`` is ``SELECT <columns> FROM <table>``. The ``model`` filter is not SQL (it matches
    inside the JSON body): apply ``keep_model`` to what the statement returns.
    """
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("user_name", query.user),
        ("kind", query.kind),
        ("status", query.status),
        ("refers_to", query.refers_to),
    ):
        if value is not None:
            where.append(f"{column} = {mark}")
            params.append(value)
    if query.start is not None:
        where.append(f"time >= {mark}")
        params.append(day_start_iso(query.start))
    if query.end is not None:
        where.append(f"time < {mark}")
        params.append(day_end_iso(query.end))
    sql = select
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq" + (" DESC" if query.newest_first else "")
    if query.limit is not None and query.model is None:
        sql += f" LIMIT {int(query.limit)}"
    return sql, params


def keep_model(records: list[StoredRecord], query: TrailQuery) -> list[StoredRecord]:
    """``records`` whose model versions contain ``query.model`` (all of them when it is None)."""
    if query.model is None:
        return records
    needle = query.model.lower()
    kept = [
        r
        for r in records
        if any(
            needle in str(v).lower()
            for v in (r.record.get("versions") or {}).values()
            if v is not None
        )
    ]
    return kept if query.limit is None else kept[: query.limit]


def _text(value: Any) -> str:
    return bytes(value).decode("ascii") if isinstance(value, bytes | memoryview) else str(value)


class ChainedStore:
    """An append-only, hash-chained trail in the database of ``dialect``."""

    def __init__(self, dialect: Dialect, *, clock: Callable[[], datetime] = utc_now) -> None:
        """Use the trail through ``dialect`` (created on first use); ``clock`` stamps appends."""
        self.dialect = dialect
        self.clock = clock
        self._ready = False
        self._local = threading.local()

    def _q(self, template: str) -> str:
        """``template`` with this dialect's table names, placeholder and raw columns."""
        d = self.dialect
        return template.format(records=d.records, purges=d.purges, p=d.mark, raw=d.raw_columns)

    # -- connections -------------------------------------------------------------------------

    def _open(self) -> Any:
        """A new connection (a hook: tests put the store on a full or read-only disk here)."""
        return self.dialect.connect()

    def _shared(self) -> Any:
        """This thread's long-lived connection, kept open across calls.

        Reopening costs: closing the last connection to a SQLite WAL file checkpoints it (several
        fsyncs per append), and a PostgreSQL connection is a server process.
        """
        local = self._local
        con = getattr(local, "con", None)
        if con is not None and local.pid == os.getpid() and not getattr(con, "closed", False):
            return con
        if con is not None and local.pid != os.getpid():
            # Inherited across fork: the child must never use it, and closing it could release
            # the parent's locks. Keep it referenced and untouched.
            _INHERITED.append(con)
        local.con, local.pid = self._open(), os.getpid()
        return local.con

    def close(self) -> None:
        """Close this thread's connection (the next call opens a new one)."""
        con = getattr(self._local, "con", None)
        if con is not None and self._local.pid == os.getpid():
            with contextlib.suppress(Exception):
                con.close()
        self._local.con = None

    @contextlib.contextmanager
    def _connect(self, *, private: bool = False) -> Iterator[Any]:
        """A connection: this thread's shared one, or a ``private`` one closed afterwards."""
        try:
            con = self._open() if private else self._shared()
            if not self._ready:
                self._migrate(con)
                self._ready = True
        except self.dialect.error as exc:
            if not private:
                self.close()
            raise TrailError(
                f"cannot open the answer trail at {self.dialect.where}: {exc}",
                hint="check that the data directory (or trail database) exists and is writable",
            ) from exc
        try:
            yield con
        finally:
            if private:
                con.close()

    def _migrate(self, con: Any) -> None:
        d = self.dialect
        d.before_migrate(con)
        with d.writing(con):
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {d.migrations_table} (name TEXT PRIMARY KEY, "
                "applied_at TEXT)"
            )
            done = {r[0] for r in con.execute(f"SELECT name FROM {d.migrations_table}").fetchall()}
            for name, script in d.migrations:
                if name not in done:
                    d.run_script(con, script)
                    con.execute(
                        f"INSERT INTO {d.migrations_table} VALUES ({d.mark}, {d.mark})",
                        (name, iso_utc(self.clock())),
                    )

    # -- writing -----------------------------------------------------------------------------

    def append(self, record: AnswerRecord | Mapping[str, Any]) -> StoredRecord:
        """Validate, chain and durably store one record; see ``TrailStore.append``."""
        data = parse_record(record).to_json()
        with self._connect() as con:
            try:
                with self.dialect.writing(con):
                    return self._append_in(con, data)
            except self.dialect.error as exc:
                self.close()  # after an I/O error start the next write afresh
                raise self._write_error(exc, data) from exc

    def _append_in(self, con: Any, data: dict[str, Any]) -> StoredRecord:
        """Insert ``data`` at the head, inside the caller's write transaction."""
        head = self._head_in(con)
        seq = head.seq + 1
        appended_at = iso_utc(self.clock())
        body = canonical_json({**data, "seq": seq, "appended_at": appended_at})
        digest = chain_hash(head.hash, body)
        con.execute(
            self._q(
                "INSERT INTO {records} (seq, body, prev_hash, hash) VALUES ({p}, {p}, {p}, {p})"
            ),
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

    def _write_error(self, exc: Exception, data: Mapping[str, Any]) -> Exception:
        text = str(exc).strip()
        if self.dialect.is_duplicate_id(exc):
            return RecordError(
                f"a record with id {data['id']} is already in the trail; nothing was written",
                hint="give each record a fresh id (leave `id` unset to get one)",
            )
        if "append-only" in text or "grows at its head" in text:
            return AppendOnlyError(f"the answer trail refused the write: {text}")
        return TrailWriteError(
            f"the answer trail could not be written ({text}); nothing was stored",
            hint=self.dialect.write_hint,
        )

    # -- reading -----------------------------------------------------------------------------

    def _base_in(self, con: Any) -> ChainBase:
        row = con.execute(
            self._q(
                "SELECT through_seq, through_hash FROM {purges} ORDER BY through_seq DESC LIMIT 1"
            )
        ).fetchone()
        return ChainBase() if row is None else ChainBase(seq=int(row[0]), hash=_text(row[1]))

    def _head_in(self, con: Any) -> Head:
        row = con.execute(
            self._q(
                "SELECT seq, hash, (SELECT count(*) FROM {records}) FROM {records} "
                "ORDER BY seq DESC LIMIT 1"
            )
        ).fetchone()
        if row is None:
            base = self._base_in(con)
            return Head(count=0, seq=base.seq, hash=base.hash)
        return Head(count=int(row[2]), seq=int(row[0]), hash=_text(row[1]))

    def head(self) -> Head:
        """The current chain head (count, last seq, its hash, and the last record's id)."""
        with self._connect() as con:
            head = self._head_in(con)
            if not head.count:
                return head
            try:
                row = con.execute(
                    self._q("SELECT id FROM {records} WHERE seq = {p}"), (head.seq,)
                ).fetchone()
            except self.dialect.error:  # a damaged body: the head is still known, its id is not
                return head
            return Head(head.count, head.seq, head.hash, row[0] if row else None)

    def _records(self, rows: Iterable[tuple[Any, ...]]) -> Iterator[StoredRecord]:
        try:
            for row in rows:
                yield StoredRecord.from_row(*row)
        except (ValueError, KeyError) as exc:
            raise TrailError(f"a stored record cannot be read: {exc}", hint=_DAMAGED_HINT) from exc

    def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[StoredRecord]:
        with self._connect() as con:
            try:
                rows = con.execute(sql, tuple(params)).fetchall()
            except self.dialect.error as exc:
                raise TrailError(
                    f"cannot read the answer trail: {exc}", hint=_DAMAGED_HINT
                ) from exc
        return list(self._records(rows))

    def read(self, query: TrailQuery | None = None) -> list[StoredRecord]:
        """Records matching ``query``; see ``TrailStore.read``."""
        q = query or TrailQuery()
        sql, params = read_sql(
            self._q("SELECT seq, prev_hash, hash, body FROM {records}"), q, self.dialect.mark
        )
        return keep_model(self._fetch(sql, params), q)

    def get(self, record_id: str) -> StoredRecord:
        """The record with this id or unique id prefix (8+ characters); NotFoundError if none."""
        select = self._q("SELECT seq, prev_hash, hash, body FROM {records} WHERE ")
        found = self._fetch(select + f"id = {self.dialect.mark}", (record_id,))
        if not found and len(record_id) >= 8:
            found = self._fetch(
                select + self.dialect.prefix_where + " LIMIT 2",
                self.dialect.prefix_params(record_id),
            )
        if len(found) > 1:
            raise InputError(
                f"'{record_id}' matches more than one record", hint="give more of the record id"
            )
        if not found:
            raise NotFoundError(
                f"no record '{record_id}' in the answer trail",
                hint="find ids with `sightline trail list`",
            )
        return found[0]

    def scan(self, after_seq: int = 0) -> Iterator[StoredRecord]:
        """Every record after ``after_seq`` in chain order, from one snapshot (for export)."""
        with self._connect(private=True) as con, self.dialect.snapshot(con):
            sql = self._q(
                "SELECT seq, prev_hash, hash, body FROM {records} WHERE seq > {p} ORDER BY seq"
            )
            yield from self._records(self.dialect.rows(con, sql, (after_seq,), batch=2000))

    # -- verification ------------------------------------------------------------------------

    def verify(self, anchor: Mapping[str, Any] | None = None, *, workers: int = 1) -> VerifyResult:
        """Check the whole chain (and an anchor, if given) from one consistent snapshot.

        ``workers`` > 1 lets a dialect that can (SQLite, on large trails) read and hash ranges of
        positions in that many processes; records appended meanwhile are outside the checked
        range either way.
        """
        try:
            with self._connect(private=True) as con, self.dialect.snapshot(con):
                base = self._base_in(con)
                result = self._verify_links(con, base, workers)
                if result.ok and base.seq:
                    require_purge_event(self._purge_events(con, base), base, result)
                if anchor is not None:
                    seq = int(anchor["seq"])
                    row = con.execute(
                        self._q("SELECT hash FROM {records} WHERE seq = {p}"), (seq,)
                    ).fetchone()
                    hash_at = _text(row[0]) if row else (base.hash if seq == base.seq else None)
                    check_anchor(result, dict(anchor), hash_at, base)
        except self.dialect.error as exc:
            raise TrailError(
                f"the answer trail at {self.dialect.where} is damaged or unreachable and cannot "
                f"be read: {exc}",
                hint="if it is damaged, restore it from a backup and verify it against your "
                "last anchor",
            ) from exc
        return result

    def _verify_links(self, con: Any, base: ChainBase, workers: int) -> VerifyResult:
        if workers > 1:
            top = con.execute(self._q("SELECT max(seq) FROM {records}")).fetchone()[0]
            result = self.dialect.verify_parallel(base, int(top or base.seq), workers)
            if result is not None:
                return result
        rows = self.dialect.rows(
            con, self._q("SELECT {raw} FROM {records} ORDER BY seq"), batch=5000
        )
        try:
            return verify_chain(rows, base)
        finally:
            rows.close()  # it may stop at a break: release the cursor before the next query

    def _purge_events(self, con: Any, base: ChainBase) -> list[Any]:
        """Bodies of the purge events that name ``base`` (see ``require_purge_event``)."""
        d = self.dialect
        # Not through ``_q``: a JSON path expression may hold braces.
        sql = (
            f"SELECT body FROM {d.records} WHERE kind = 'event' "
            f"AND {d.json_text('details', 'action')} = 'purge' "
            f"AND {d.json_text('details', 'through_seq')} = {d.mark}"
        )
        rows = con.execute(sql, (str(base.seq),)).fetchall()
        return [body for (body,) in rows]

    # -- retention ---------------------------------------------------------------------------

    def purge(self, before: date, *, user: str, role: str, retention_years: int) -> dict[str, Any]:
        """Drop the oldest records appended before ``before``; see ``TrailStore.purge``.

        Refuses when ``before`` is later than the retention cutoff (records that young must be
        kept) or when the chain does not verify (a damaged trail is evidence, not garbage). The
        purge itself is appended as an ``event`` record, so the chain shows what was removed.
        """
        check_purge_allowed(before, self.clock(), retention_years, lambda: self.verify().ok)
        with self._connect(private=True) as con:
            self.dialect.before_purge(con)
            try:
                with self.dialect.writing(con):
                    return self._purge_in(con, before, user, role, retention_years)
            except self.dialect.error as exc:
                raise TrailWriteError(f"the purge failed and changed nothing: {exc}") from exc

    def _purge_in(
        self, con: Any, before: date, user: str, role: str, retention_years: int
    ) -> dict[str, Any]:
        base = self._base_in(con)
        first_young, last = con.execute(
            self._q(
                "SELECT (SELECT min(seq) FROM {records} WHERE appended_at >= {p}), "
                "(SELECT max(seq) FROM {records})"
            ),
            (day_start_iso(before),),
        ).fetchone()
        through = int(first_young) - 1 if first_young is not None else int(last or 0)
        if through <= base.seq:
            return purge_summary(0, before, base.seq)
        count, through_hash = con.execute(
            self._q(
                "SELECT (SELECT count(*) FROM {records} WHERE seq <= {p}), "
                "(SELECT hash FROM {records} WHERE seq = {p})"
            ),
            (through, through),
        ).fetchone()
        through_hash = _text(through_hash)
        event = purge_event(
            user=user,
            role=role,
            before=before,
            through_seq=through,
            through_hash=through_hash,
            count=int(count),
            retention_years=retention_years,
        )
        stored = self._append_in(con, event.to_json())
        con.execute(
            self._q("INSERT INTO {purges} VALUES ({p}, {p}, {p}, {p}, {p}, {p})"),
            (through, through_hash, before.isoformat(), stored.appended_at, user, event.id),
        )
        con.execute(self._q("DELETE FROM {records} WHERE seq <= {p}"), (through,))
        return purge_summary(int(count), before, through, through_hash, stored.id)
