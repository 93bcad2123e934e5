"""The DuckDB warehouse: one file of tables, read by many processes while one process writes.

DuckDB allows one read-write process OR many read-only processes per file. Sightline needs both at
once (the app serves answers while ``sightline ingest`` loads a file), so writes are copy-on-write:

* readers open the current snapshot ``warehouse.duckdb`` read-only, as often as they like;
* a writer takes an exclusive lock file, copies the snapshot to a private temporary file, changes
  that copy, checkpoints it, fsyncs it and atomically renames it over the snapshot.

A reader that opened the old snapshot keeps reading it (POSIX keeps the old inode alive) and the
next reader sees the new one, so a reader never waits and never sees half a write. A failed write
leaves the snapshot untouched: the temporary copy is deleted. Writers queue on the lock. The cost is
one file copy per write transaction, which is why loaders batch their work into one
``writer()`` block.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
from filelock import FileLock

from ingestion.errors import StoreError

SNAPSHOT_NAME = "warehouse.duckdb"


@dataclass(frozen=True)
class Migration:
    """One named, ordered schema change; applied once per warehouse and recorded."""

    name: str
    sql: str


def apply_migrations(con: duckdb.DuckDBPyConnection, migrations: Sequence[Migration]) -> list[str]:
    """Apply the migrations not yet recorded in ``_migrations``; return the names applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)"
    )
    done = {row[0] for row in con.execute("SELECT name FROM _migrations").fetchall()}
    applied = []
    for migration in migrations:
        if migration.name in done:
            continue
        con.execute(migration.sql)
        con.execute("INSERT INTO _migrations VALUES (?, now()::TIMESTAMP)", [migration.name])
        applied.append(migration.name)
    return applied


class Warehouse:
    """The DuckDB snapshot in a data directory, with copy-on-write writers."""

    def __init__(self, directory: Path, *, migrations: Sequence[Migration] = ()) -> None:
        self.directory = Path(directory)
        self.path = self.directory / SNAPSHOT_NAME
        self._lock_path = self.directory / (SNAPSHOT_NAME + ".lock")
        self._migrations = tuple(migrations)

    def exists(self) -> bool:
        """True once the first write has produced a snapshot."""
        return self.path.exists()

    def generation(self) -> tuple[int, int]:
        """Identity of the current snapshot (inode, mtime); changes on every committed write."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return (0, 0)
        return (st.st_ino, st.st_mtime_ns)

    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the current snapshot (created empty if none exists yet)."""
        if not self.exists():
            with self.writer():
                pass
        try:
            con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            raise StoreError(
                f"cannot open the warehouse {self.path} for reading: {exc}",
                hint="check that SIGHTLINE_HOME points at a Sightline data directory",
            ) from exc
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to a private copy, published atomically when the block ends.

        If the block raises, nothing is published and the snapshot is unchanged.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        # Writers queue on an flock (released by the kernel if a writer dies); no soft fallback.
        lock = FileLock(
            self._lock_path, mode=0o600, fallback_to_soft=False, preserve_lock_file=True
        )
        with lock:
            self._remove_stale_copies()
            tmp = self.directory / f".{SNAPSHOT_NAME}.{os.getpid()}.{time.monotonic_ns()}.tmp"
            if self.path.exists():
                shutil.copyfile(self.path, tmp)
            con = duckdb.connect(str(tmp))
            try:
                apply_migrations(con, self._migrations)
                yield con
                con.execute("CHECKPOINT")
                con.close()
                _fsync_file(tmp)
                os.replace(tmp, self.path)
                _fsync_dir(self.directory)
            except BaseException:
                with contextlib.suppress(Exception):
                    con.close()
                for leftover in (tmp, Path(str(tmp) + ".wal")):
                    leftover.unlink(missing_ok=True)
                raise

    def _remove_stale_copies(self) -> None:
        """Delete copies left by a writer that crashed (we hold the lock, so none is live)."""
        for stale in self.directory.glob(f".{SNAPSHOT_NAME}.*.tmp*"):
            stale.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
