"""Warehouse tables of the overnight batch: runs with lineage, results keyed by run id, "current".

Every write goes through one ``Warehouse.writer()`` block, which publishes atomically: a run's
results, its ``succeeded`` status and the ``batch_current`` pointer land together or not at all, so
a batch killed at any point never leaves a half-written run marked current. The input fingerprint
reads only rows known at the run's as-of date (point-in-time), so loading later prices does not
change the lineage of an old run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from ingestion.tables import frame_sha256
from ingestion.warehouse import Migration, Warehouse
from tools.errors import UnknownEntity

RUNS_DDL = """
CREATE TABLE IF NOT EXISTS batch_runs (
  run_id VARCHAR PRIMARY KEY,
  as_of DATE NOT NULL,
  status VARCHAR NOT NULL,          -- running | succeeded | failed
  user_name VARCHAR NOT NULL,
  pid BIGINT NOT NULL,
  host VARCHAR NOT NULL,
  started_at TIMESTAMP NOT NULL,
  ended_at TIMESTAMP,
  inputs_sha256 VARCHAR,
  results_sha256 VARCHAR,
  identical_to VARCHAR,
  failed_step VARCHAR,
  error VARCHAR,
  lineage VARCHAR,                  -- JSON: tables, features, models, code
  stages VARCHAR,                   -- JSON: seconds per stage
  payload VARCHAR                   -- JSON: the full tool outputs (inputs, out-of-domain flags)
);
CREATE TABLE IF NOT EXISTS batch_current (
  as_of DATE PRIMARY KEY,
  run_id VARCHAR NOT NULL,
  since TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_risk (
  run_id VARCHAR NOT NULL, portfolio VARCHAR NOT NULL, confidence DOUBLE NOT NULL,
  metric VARCHAR NOT NULL, value DOUBLE
);
CREATE TABLE IF NOT EXISTS batch_exposures (
  run_id VARCHAR NOT NULL, portfolio VARCHAR NOT NULL, kind VARCHAR NOT NULL,
  name VARCHAR NOT NULL, market_value_usd DOUBLE, weight DOUBLE, component_var_99_usd DOUBLE
);
CREATE TABLE IF NOT EXISTS batch_holdings (
  run_id VARCHAR NOT NULL, portfolio VARCHAR NOT NULL, ticker VARCHAR NOT NULL,
  quantity DOUBLE NOT NULL, held_at DATE NOT NULL, price DOUBLE, price_date DATE
);
CREATE TABLE IF NOT EXISTS batch_pd (
  run_id VARCHAR NOT NULL, loan_id BIGINT NOT NULL, pd DOUBLE NOT NULL, flags BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_backtest (
  run_id VARCHAR NOT NULL, portfolio VARCHAR NOT NULL, date DATE NOT NULL,
  pnl DOUBLE NOT NULL, var_95 DOUBLE NOT NULL, var_99 DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_exceptions (
  run_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, severity VARCHAR NOT NULL,
  portfolio VARCHAR, ticker VARCHAR, detail VARCHAR NOT NULL
);
"""

MIGRATIONS: tuple[Migration, ...] = (Migration("batch_0001_runs_and_results", RUNS_DDL),)

RESULT_TABLES = (
    "batch_risk",
    "batch_exposures",
    "batch_holdings",
    "batch_pd",
    "batch_backtest",
    "batch_exceptions",
)

# What each input table contributes to a run, read point-in-time (None: the whole table).
INPUT_TABLES: dict[str, tuple[str | None, str]] = {
    "prices": ("date", "ticker, date"),
    "positions": ("as_of", "portfolio, ticker, as_of"),
    "loans": (None, "loan_id"),
    "fundamentals": ("filing_date", "ticker, item, period_end, filing_date"),
    "macro": ("date", "series, date"),
}


@dataclass(frozen=True)
class RunRow:
    """One row of ``batch_runs`` (JSON columns decoded)."""

    run_id: str
    as_of: date
    status: str
    user: str
    pid: int
    host: str
    started_at: datetime
    ended_at: datetime | None
    inputs_sha256: str | None
    results_sha256: str | None
    identical_to: str | None
    failed_step: str | None
    error: str | None
    lineage: dict[str, Any]
    stages: dict[str, float]
    current: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``batch show --json`` shape, without results)."""
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "status": self.status,
            "current": self.current,
            "user": self.user,
            "pid": self.pid,
            "host": self.host,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "ended_at": self.ended_at.isoformat(timespec="seconds") if self.ended_at else None,
            "inputs_sha256": self.inputs_sha256,
            "results_sha256": self.results_sha256,
            "identical_to": self.identical_to,
            "failed_step": self.failed_step,
            "error": self.error,
            "lineage": self.lineage,
            "stages_s": self.stages,
        }


def input_fingerprints(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, dict[str, Any]]:
    """sha256, row count and last date of each input table's rows known at ``as_of``."""
    out: dict[str, dict[str, Any]] = {}
    for table, (column, order) in INPUT_TABLES.items():
        where = f"WHERE {column} <= ?" if column else ""
        params = [as_of] if column else []
        frame = con.execute(f"SELECT * FROM {table} {where} ORDER BY {order}", params).df()
        last = None
        if column and len(frame):
            rows = con.execute(f"SELECT max({column}) FROM {table} {where}", params).fetchall()
            last = str(rows[0][0])
        out[table] = {"rows": len(frame), "sha256": frame_sha256(frame), "last": last}
    return out


def portfolios_held(con: duckdb.DuckDBPyConnection, as_of: date) -> list[str]:
    """Portfolios with holdings known on or before ``as_of``, sorted."""
    rows = con.execute(
        "SELECT DISTINCT portfolio FROM positions WHERE as_of <= ? ORDER BY portfolio", [as_of]
    ).fetchall()
    return [r[0] for r in rows]


def portfolios_later(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, date]:
    """Portfolios whose first holdings are dated after ``as_of`` (not known yet): first date."""
    rows = con.execute(
        "SELECT portfolio, min(as_of) FROM positions GROUP BY portfolio HAVING min(as_of) > ? "
        "ORDER BY portfolio",
        [as_of],
    ).fetchall()
    return {p: d for p, d in rows}


def price_status(
    con: duckdb.DuckDBPyConnection, tickers: list[str], as_of: date
) -> dict[str, tuple[date | None, float | None]]:
    """Each ticker's last adjusted close on or before ``as_of`` (None, None when it has none)."""
    rows = con.execute(
        "SELECT ticker, max(date), arg_max(adj_close, date) FROM prices "
        "WHERE ticker IN (SELECT UNNEST(?)) AND date <= ? GROUP BY ticker",
        [tickers, as_of],
    ).fetchall()
    found = {t: (d, float(p)) for t, d, p in rows}
    return {t: found.get(t, (None, None)) for t in tickers}


def market_day(con: duckdb.DuckDBPyConnection, as_of: date) -> date | None:
    """The last date on or before ``as_of`` on which the prices table has any price."""
    row = con.execute("SELECT max(date) FROM prices WHERE date <= ?", [as_of]).fetchall()
    return row[0][0]


def insert_running(warehouse: Warehouse, row: dict[str, Any]) -> None:
    """Record that a run started (its own transaction, so a crash leaves a trace)."""
    with warehouse.writer() as con:
        con.execute(
            "INSERT INTO batch_runs (run_id, as_of, status, user_name, pid, host, started_at) "
            "VALUES (?, ?, 'running', ?, ?, ?, ?)",
            [row["run_id"], row["as_of"], row["user"], row["pid"], row["host"], row["started_at"]],
        )


def mark_failed(
    warehouse: Warehouse, run_id: str, *, step: str, error: str, ended_at: datetime,
    stages: dict[str, float], lineage: dict[str, Any] | None,
) -> None:  # fmt: skip
    """Record a failed run; ``batch_current`` is left as it was (the previous good run)."""
    with warehouse.writer() as con:
        con.execute(
            "UPDATE batch_runs SET status = 'failed', failed_step = ?, error = ?, ended_at = ?, "
            "stages = ?, lineage = ? WHERE run_id = ?",
            [step, error, ended_at, json.dumps(stages), json.dumps(lineage or {}), run_id],
        )


def publish(
    warehouse: Warehouse, run_id: str, as_of: date, results: dict[str, list[tuple[Any, ...]]],
    *, summary: dict[str, Any], identical_to: str | None,
) -> None:  # fmt: skip
    """Write a run's results, mark it succeeded and (unless identical) make it current: atomically.

    ``results`` maps each table in ``RESULT_TABLES`` to its rows without the run id. An identical
    rerun writes no result rows: it points at the run whose results it reproduced.
    """
    with warehouse.writer() as con:
        if identical_to is None:
            for table, rows in results.items():
                if table not in RESULT_TABLES:
                    raise ValueError(f"not a batch result table: {table}")
                if rows:
                    _insert_rows(con, table, run_id, rows)
        con.execute(
            "UPDATE batch_runs SET status = 'succeeded', ended_at = ?, inputs_sha256 = ?, "
            "results_sha256 = ?, identical_to = ?, lineage = ?, stages = ?, payload = ? "
            "WHERE run_id = ?",
            [
                summary["ended_at"],
                summary["inputs_sha256"],
                summary["results_sha256"],
                identical_to,
                json.dumps(summary["lineage"], sort_keys=True),
                json.dumps(summary["stages"]),
                json.dumps(summary["payload"], sort_keys=True, default=str),
                run_id,
            ],
        )
        if identical_to is None:
            con.execute(
                "INSERT OR REPLACE INTO batch_current VALUES (?, ?, ?)",
                [as_of, run_id, summary["ended_at"]],
            )


def _insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, run_id: str, rows: list[tuple[Any, ...]]
) -> None:
    """Bulk insert through a registered DataFrame (``executemany`` goes row by row in DuckDB)."""
    import pandas as pd

    names = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()]
    frame = pd.DataFrame([(run_id, *r) for r in rows], columns=names)
    con.register("_batch_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _batch_rows")
    finally:
        con.unregister("_batch_rows")


_RUN_COLUMNS = (
    "r.run_id, r.as_of, r.status, r.user_name, r.pid, r.host, r.started_at, r.ended_at, "
    "r.inputs_sha256, r.results_sha256, r.identical_to, r.failed_step, r.error, r.lineage, "
    "r.stages, c.run_id IS NOT NULL"
)


def _run_row(row: tuple[Any, ...]) -> RunRow:
    lineage = json.loads(row[13]) if row[13] else {}
    stages = json.loads(row[14]) if row[14] else {}
    return RunRow(*row[:13], lineage, stages, bool(row[15]))  # type: ignore[call-arg]


def _has_runs(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'batch_runs'"
        ).fetchall()[0][0]
    )


def list_runs(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[RunRow]:
    """Runs, newest start first."""
    if not _has_runs(con):
        return []
    rows = con.execute(
        f"SELECT {_RUN_COLUMNS} FROM batch_runs r LEFT JOIN batch_current c "
        "ON c.run_id = r.run_id ORDER BY r.started_at DESC, r.run_id DESC LIMIT ?",
        [limit],
    ).fetchall()
    return [_run_row(r) for r in rows]


def get_run(con: duckdb.DuckDBPyConnection, run_id: str) -> RunRow:
    """One run by id; UnknownEntity with a hint when there is none."""
    rows = (
        con.execute(
            f"SELECT {_RUN_COLUMNS} FROM batch_runs r LEFT JOIN batch_current c "
            "ON c.run_id = r.run_id WHERE r.run_id = ?",
            [run_id],
        ).fetchall()
        if _has_runs(con)
        else []
    )
    if not rows:
        raise UnknownEntity(
            f"no batch run '{run_id}'", hint="list runs with `sightline batch list`"
        )
    return _run_row(rows[0])


def current_run_id(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    """The current (last good, published) run for ``as_of``, if any."""
    if not _has_runs(con):
        return None
    rows = con.execute("SELECT run_id FROM batch_current WHERE as_of = ?", [as_of]).fetchall()
    return rows[0][0] if rows else None


def previous_current(con: duckdb.DuckDBPyConnection, as_of: date) -> tuple[date, str] | None:
    """The current run of the latest as-of date before ``as_of`` (day-over-day comparisons)."""
    if not _has_runs(con):
        return None
    rows = con.execute(
        "SELECT as_of, run_id FROM batch_current WHERE as_of < ? ORDER BY as_of DESC LIMIT 1",
        [as_of],
    ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def run_payload(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """The JSON payload stored with a succeeded run (full tool outputs)."""
    rows = con.execute("SELECT payload FROM batch_runs WHERE run_id = ?", [run_id]).fetchall()
    return json.loads(rows[0][0]) if rows and rows[0][0] else {}


def result_rows(con: duckdb.DuckDBPyConnection, table: str, run_id: str) -> list[dict[str, Any]]:
    """Every row of one result table for one run, as dicts, in a stable order."""
    if table not in RESULT_TABLES:
        raise ValueError(f"not a batch result table: {table}")
    cur = con.execute(f"SELECT * FROM {table} WHERE run_id = ? ORDER BY ALL", [run_id])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def result_counts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Rows per result table for one run (the kill test checks them against the lineage)."""
    return {
        t: int(con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", [run_id]).fetchall()[0][0])
        for t in RESULT_TABLES
    }


def current_runs(con: duckdb.DuckDBPyConnection) -> list[tuple[date, str]]:
    """Every (as_of, run_id) in ``batch_current``, oldest date first."""
    if not _has_runs(con):
        return []
    return [
        (d, r)
        for d, r in con.execute("SELECT as_of, run_id FROM batch_current ORDER BY as_of").fetchall()
    ]
