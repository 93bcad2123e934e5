"""The guarded, read-only SQL tool: the guard, a locked DuckDB connection, and hard limits.

SECURITY.md rows 13-15. Every query passes ``tools.sql_guard.check_sql`` first, then runs on a
connection opened read-only with external access disabled, extension autoload/autoinstall off, one
thread, a memory limit and the configuration locked — so even a statement that slipped past the
guard could not read files, load extensions or change settings. DuckDB has no statement timeout, so
a timer calls ``interrupt()`` at the deadline; rows and result bytes are capped.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from tools.errors import QueryError
from tools.sql_guard import allowed_tables, check_sql

LOCKED_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "threads": 1,
    "memory_limit": "512MB",
    "lock_configuration": True,  # must come last in spirit: nothing can be changed after this
}


def open_locked(path: Path | str, *, memory_limit: str = "512MB") -> duckdb.DuckDBPyConnection:
    """Open the warehouse file read-only with the locked configuration (SECURITY.md 14).

    Raises:
        QueryError: the file cannot be opened.
    """
    config = dict(LOCKED_CONFIG, memory_limit=memory_limit)
    try:
        return duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.Error as exc:
        raise QueryError(
            f"cannot open the warehouse read-only: {exc}",
            hint="load data first (`sightline demo`) or check SIGHTLINE_HOME",
        ) from exc


# Columns that name the entity a row is about; restricted tickers are removed through them.
ENTITY_COLUMNS = ("ticker", "issuer", "entity")


def entity_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Table -> its entity columns (``ENTITY_COLUMNS`` it has), for the row filter."""
    marks = ", ".join("?" for _ in ENTITY_COLUMNS)
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        f"WHERE table_schema = 'main' AND lower(column_name) IN ({marks})",
        list(ENTITY_COLUMNS),
    ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table.lower(), []).append(column)
    return found


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the tables and views in the connected warehouse."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return sorted(r[0] for r in rows)


@dataclass(frozen=True)
class QueryResult:
    """What one guarded query returned (JSON-ready), with the limits that applied."""

    sql: str
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    ms: float
    tables: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The result as logged in the trail and shown to the model."""
        return {
            "sql": self.sql,
            "columns": self.columns,
            "rows": self.rows,
            "row_count": self.row_count,
            "truncated": self.truncated,
            "tables": list(self.tables),
        }


def run_query(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    *,
    row_cap: int = 1000,
    timeout_s: float = 5.0,
    max_bytes: int = 256_000,
    allowed: frozenset[str] | None = None,
    hidden: frozenset[str] = frozenset(),
) -> QueryResult:
    """Guard then run one read-only query with a deadline, a row cap and a result-size cap.

    Args:
        con: a connection from :func:`open_locked`.
        sql: the statement to check and run.
        row_cap: most rows returned (more are cut and ``truncated`` is set).
        timeout_s: wall-clock deadline; the query is interrupted when it passes.
        max_bytes: most bytes of JSON-encoded rows returned (rows beyond are cut).
        allowed: tables that may be read (default: the warehouse's allow-listed tables).
        hidden: entity values (tickers) whose rows the query must not see in any table: they
            are filtered out before the query reads the table (SECURITY.md 9).

    Raises:
        GuardError: the guard refused the statement (it never ran).
        QueryError: the query failed or passed its deadline.
    """
    if allowed is None:
        allowed = allowed_tables(table_names(con))
    hide = entity_columns(con) if hidden else None
    guarded = check_sql(sql, allowed, hide_rows=hide, hidden=hidden)
    started = time.perf_counter()
    timer = threading.Timer(timeout_s, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        cursor = con.execute(guarded.run_sql or guarded.sql)
        columns = [d[0] for d in cursor.description or []]
        raw = cursor.fetchmany(row_cap + 1)
    except duckdb.InterruptException as exc:
        raise QueryError(
            f"query stopped after the {timeout_s:g} s limit",
            hint="narrow the query: filter by ticker/date, aggregate, or add LIMIT",
        ) from exc
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0][:300]
        raise QueryError(f"query failed: {message}", hint="fix the SQL and try again") from exc
    finally:
        timer.cancel()
    truncated = len(raw) > row_cap
    rows = [[_jsonable(v) for v in row] for row in raw[:row_cap]]
    size = 0
    for i, row in enumerate(rows):
        size += len(json.dumps(row, default=str))
        if size > max_bytes:
            rows, truncated = rows[:i], True
            break
    return QueryResult(
        sql=guarded.sql,
        columns=columns,
        rows=rows,
        row_count=len(rows),
        truncated=truncated,
        ms=(time.perf_counter() - started) * 1000,
        tables=guarded.tables,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
