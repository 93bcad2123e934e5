"""ToolContext: the small frozen bundle of dependencies every agent tool receives.

Tools never import globals or read settings: the agent builds one context per question from the
runtime (warehouse file, document index, model registry, the asking user's name and groups, and the
limits) and passes it in. The user's groups come from the user store, never from the model.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from tools.sql import open_locked, table_names
from tools.sql_guard import allowed_tables

_SHARED: dict[str, tuple[tuple[int, int], duckdb.DuckDBPyConnection, dict[str, Any]]] = {}
_SHARED_LOCK = threading.Lock()


def snapshot_cache(path: Path) -> dict[str, Any]:
    """A dict that lives as long as the current warehouse snapshot (vocabulary, allow-list)."""
    shared_connection(path)
    return _SHARED[str(Path(path).resolve())][2]


def shared_connection(path: Path) -> duckdb.DuckDBPyConnection:
    """One locked read-only connection per warehouse snapshot, shared by every question.

    Opening the file costs ~100 ms; a cursor on an open connection costs microseconds and keeps
    the locked configuration. Writers publish a new snapshot by atomic rename, so a changed
    (inode, mtime) means a new snapshot: the old connection is closed and a new one opened.

    DuckDB refuses a second connection to the same path with a different configuration in one
    process, and the rest of the app reads the same file with the default configuration
    (``Warehouse.reader``). So the locked connection opens a private hard link to the snapshot's
    inode (``.agent-readonly/`` beside it): a different path to the same bytes, still read-only.
    """
    key = str(Path(path).resolve())
    for _attempt in range(3):
        try:
            st = os.stat(key)
        except FileNotFoundError:
            return open_locked(key)  # no snapshot yet: open_locked reports it clearly
        generation = (st.st_ino, st.st_mtime_ns)
        with _SHARED_LOCK:
            cached = _SHARED.get(key)
            if cached is not None and cached[0] == generation:
                return cached[1]
            try:
                link = _private_link(Path(key), generation)
            except FileNotFoundError:
                continue  # the snapshot was replaced between stat and link: look again
            con = open_locked(link)
            # The old snapshot's connection is dropped, not closed: questions still running may
            # hold cursors on it; it goes away with its last cursor.
            _SHARED[key] = (generation, con, {})
            return con
    return open_locked(key)


def _private_link(snapshot: Path, generation: tuple[int, int]) -> Path:
    """A hard link to ``snapshot`` owned by this process; older links of this process removed."""
    folder = snapshot.parent / ".agent-readonly"
    folder.mkdir(exist_ok=True)
    pid = os.getpid()
    link = folder / f"{snapshot.stem}-{generation[0]}-{generation[1]}-{pid}.duckdb"
    for old in folder.glob(f"{snapshot.stem}-*.duckdb"):
        owner = old.stem.rsplit("-", 1)[-1]
        if old != link and (owner == str(pid) or not _alive(int(owner) if owner.isdigit() else 0)):
            old.unlink(missing_ok=True)
    if not link.exists():
        tmp = folder / f".{link.name}.{threading.get_ident()}"
        tmp.unlink(missing_ok=True)
        os.link(snapshot, tmp)
        if os.stat(tmp).st_ino != generation[0]:
            tmp.unlink(missing_ok=True)
            raise FileNotFoundError(snapshot)
        os.replace(tmp, link)
    return link


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class ToolContext:
    """What a tool may use while answering one question.

    Attributes:
        warehouse_path: the DuckDB snapshot, opened read-only with the locked configuration.
        user: name of the asking user (logged; never chosen by the model).
        groups: the user's access groups, the allow-list for document search.
        documents: the document index (``retrieval.index.DocumentIndex``) or None.
        registry: the model registry (``tools.registry.ModelRegistry``) or None.
        sql_timeout_s: wall-clock limit of one guarded query.
        sql_row_cap: most rows one guarded query returns.
        sql_max_bytes: most bytes of rows one guarded query returns.
        history_points: most points a feature history returns (longer ones are thinned).
        restricted: the restricted list, ticker -> groups that may still see it (from the data
            dir, never from the model); tickers outside the user's groups are refused.
    """

    warehouse_path: Path
    user: str
    groups: tuple[str, ...]
    documents: Any | None = None
    registry: Any | None = None
    sql_timeout_s: float = 5.0
    sql_row_cap: int = 1000
    sql_max_bytes: int = 256_000
    history_points: int = 400
    restricted: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    _open: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The locked read-only connection of this context (a cursor, made on first use)."""
        con = self._open.get("con")
        if con is None:
            base = shared_connection(self.warehouse_path)
            with _SHARED_LOCK:  # a DuckDB connection is not thread-safe, even to make cursors
                con = base.cursor()
            self._open["con"] = con
        return con

    def allowed_tables(self) -> frozenset[str]:
        """Tables the guarded SQL tool may read in this warehouse."""
        cache = snapshot_cache(self.warehouse_path)
        if "allowed" not in cache:
            cache["allowed"] = allowed_tables(table_names(self.connection()))
        return cache["allowed"]

    def barred(self) -> frozenset[str]:
        """Restricted tickers this user may not see (SECURITY.md 9)."""
        from tools.restricted import barred_for

        return barred_for(self.restricted, self.groups)

    def close(self) -> None:
        """Close the connection (the context may be used again: it reopens)."""
        con = self._open.pop("con", None)
        if con is not None:
            with contextlib.suppress(duckdb.Error):
                con.close()
