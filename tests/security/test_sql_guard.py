"""SECURITY.md 13-15: the SQL guard, the locked read-only connection and the query limits.

The hostile statements are a data table (as in DuckDB's sqllogictest `statement error` files): every
one must be refused by the guard before execution, and the dangerous ones must also fail on the
locked connection itself, as if the guard had been bypassed.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.runtime import warehouse_migrations
from ingestion.warehouse import Warehouse
from tools.errors import GuardError, QueryError
from tools.sql import open_locked, run_query
from tools.sql_guard import BASE_TABLES, check_sql

# (statement, why it must be refused)
HOSTILE: list[tuple[str, str]] = [
    ("SELECT * FROM read_text('/etc/passwd')", "file read via table function"),
    ("SELECT * FROM read_blob('/etc/shadow')", "file read via table function"),
    ("SELECT * FROM read_csv('/etc/passwd')", "csv reader"),
    ("SELECT * FROM read_csv_auto('/etc/passwd')", "csv reader"),
    ("SELECT * FROM read_parquet('s3://bucket/x.parquet')", "remote parquet"),
    ("SELECT * FROM read_json('/tmp/x.json')", "json reader"),
    ("SELECT * FROM '/etc/passwd'", "file path as table"),
    ("SELECT * FROM 'data.parquet'", "file path as table"),
    ("FROM '/etc/passwd'", "FROM-first file read"),
    ("SELECT * FROM glob('/*')", "directory listing"),
    ("SELECT * FROM parquet_scan('x.parquet')", "scanner"),
    ("SELECT * FROM sqlite_scan('x.db', 't')", "sqlite scanner"),
    ("SELECT * FROM duckdb_settings()", "settings catalog"),
    ("SELECT * FROM duckdb_tables()", "catalog function"),
    ("SELECT * FROM pragma_table_info('prices')", "pragma function"),
    ("SELECT getenv('HOME')", "environment read"),
    ("SELECT current_setting('memory_limit')", "settings read"),
    ("SELECT * FROM query('SELECT * FROM loads')", "dynamic SQL"),
    ("SELECT * FROM query_table('loads')", "dynamic table"),
    ("SELECT 1; DROP TABLE prices", "two statements"),
    ("select 1; drop table x", "two statements (lower case)"),
    ("SELECT * FROM prices; SELECT * FROM loads", "two selects"),
    ("DROP TABLE prices", "DDL"),
    ("DELETE FROM prices", "DML"),
    ("INSERT INTO prices (ticker) VALUES ('X')", "DML"),
    ("UPDATE prices SET adj_close = 0", "DML"),
    ("CREATE TABLE x AS SELECT * FROM prices", "DDL"),
    ("CREATE TEMP TABLE x AS SELECT 1", "temp DDL"),
    ("CREATE VIEW v AS SELECT * FROM loans", "DDL"),
    ("ALTER TABLE prices ADD COLUMN x INT", "DDL"),
    ("TRUNCATE prices", "DML"),
    ("COPY prices TO '/tmp/prices.csv'", "file write"),
    ("COPY (SELECT * FROM prices) TO '/tmp/x.parquet' (FORMAT parquet)", "file write"),
    ("COPY prices FROM '/tmp/evil.csv'", "file read into table"),
    ("ATTACH '/tmp/other.duckdb' AS other", "attach"),
    ("ATTACH ':memory:' AS m", "attach in-memory"),
    ("DETACH other", "detach"),
    ("INSTALL httpfs", "extension install"),
    ("LOAD httpfs", "extension load"),
    ("PRAGMA enable_profiling", "pragma"),
    ("PRAGMA table_info('prices')", "pragma"),
    ("SET threads = 64", "setting"),
    ("SET enable_external_access = true", "setting"),
    ("RESET memory_limit", "setting"),
    ("CALL dsdgen(sf = 1)", "call"),
    ("EXPORT DATABASE '/tmp/dump'", "export"),
    ("IMPORT DATABASE '/tmp/dump'", "import"),
    ("CHECKPOINT", "checkpoint"),
    ("BEGIN TRANSACTION", "transaction"),
    ("USE other", "use"),
    ("DESCRIBE prices", "describe"),
    ("SHOW TABLES", "show"),
    ("SUMMARIZE prices", "summarize"),
    ("SELECT * FROM loads", "table not allow-listed (user names)"),
    ("SELECT * FROM _migrations", "table not allow-listed"),
    ("SELECT * FROM information_schema.tables", "catalog schema"),
    ("SELECT * FROM pg_catalog.pg_class", "catalog schema"),
    ("SELECT * FROM other.main.prices", "qualified table in another database"),
    ("SELECT * FROM prices, range(100000000)", "table function in FROM"),
    ("SELECT * FROM generate_series(1, 10)", "table function in FROM"),
    ("SELECT personal_status_sex FROM loans", "personal data column"),
    ("SELECT * FROM loans", "star over personal data"),
    ("SELECT l.* FROM loans l", "qualified star over personal data"),
    ("SELECT l FROM loans l", "whole row as struct"),
    ("SELECT COLUMNS('.*') FROM loans", "columns() expansion"),
    ("WITH x AS (SELECT * FROM loans) SELECT age FROM x", "star in CTE over personal data"),
    ("WITH x AS (SELECT 1) DELETE FROM prices", "DML behind WITH"),
    ("SELECT * FROM prices WHERE ticker IN (SELECT file FROM glob('*'))", "subquery file access"),
    ("SELECT (SELECT content FROM read_text('/etc/passwd'))", "scalar subquery file access"),
    ("PIVOT prices ON ticker USING sum(volume)", "pivot statement"),
    ("SELECT * INTO newtable FROM prices", "select into"),
    ("", "empty"),
    ("   ;  ", "only a separator"),
    ("SELEC * FROM prices", "parse error"),
    ("SELECT * FROM prices WHERE", "parse error"),
    ("' OR 1=1 --", "injection fragment"),
]

# The ones that must also fail on the locked connection itself (SECURITY.md 14).
BYPASS: list[str] = [
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM '/etc/passwd'",
    "COPY prices TO '{tmp}/prices.csv'",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "INSERT INTO prices (ticker, date, adj_close) VALUES ('X', DATE '2020-01-01', 1)",
    "DROP TABLE prices",
    "SET threads = 8",
    "SET enable_external_access = true",
    "PRAGMA enable_profiling",
]


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real warehouse file with a few rows in every allow-listed table (read-only in tests)."""
    wh = Warehouse(tmp_path_factory.mktemp("guard"), migrations=warehouse_migrations())
    with wh.writer() as con:
        con.execute(
            "INSERT INTO prices (ticker, date, adj_close, volume, currency, source) "
            "SELECT t, DATE '2020-01-01' + i::INTEGER, 100 + i, 1000, 'USD', 'test' "
            "FROM (VALUES ('AAPL'), ('JPM'), ('MSFT')) v(t), range(30) r(i)"
        )
        con.execute(
            "INSERT INTO macro VALUES ('vix', DATE '2020-01-01', 12.5, 'index', 'D', 'test')"
        )
    return wh.path


def test_hostile_table_has_at_least_fifty_rows() -> None:
    assert len(HOSTILE) >= 50
    assert len({s for s, _ in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize(("sql", "why"), HOSTILE, ids=[w for _, w in HOSTILE])
def test_guard_refuses_hostile_statement(sql: str, why: str) -> None:
    with pytest.raises(GuardError) as info:
        check_sql(sql, BASE_TABLES)
    assert info.value.hint, "a refusal must say what to do instead"


@pytest.mark.parametrize(("sql", "why"), HOSTILE, ids=[w for _, w in HOSTILE])
def test_hostile_statement_never_reaches_the_database(
    sql: str, why: str, warehouse_path: Path, tmp_path: Path
) -> None:
    con = open_locked(warehouse_path)
    try:
        with pytest.raises(GuardError):
            run_query(con, sql)
    finally:
        con.close()
    assert not (tmp_path / "prices.csv").exists()


@pytest.mark.parametrize("sql", BYPASS)
def test_locked_connection_refuses_even_without_the_guard(
    sql: str, warehouse_path: Path, tmp_path: Path
) -> None:
    con = open_locked(warehouse_path)
    try:
        with pytest.raises(duckdb.Error):
            con.execute(sql.format(tmp=tmp_path)).fetchall()
        # the connection still works, with its settings unchanged
        assert con.execute("SELECT current_setting('threads')").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM prices").fetchall() == [(90,)]
    finally:
        con.close()
    assert not (tmp_path / "prices.csv").exists()
    assert not (tmp_path / "other.duckdb").exists()


def test_accepted_query_returns_rows_and_the_sql_that_ran(warehouse_path: Path) -> None:
    con = open_locked(warehouse_path)
    try:
        result = run_query(
            con,
            "SELECT ticker, max(adj_close) AS hi FROM prices GROUP BY ticker ORDER BY ticker",
        )
    finally:
        con.close()
    assert result.columns == ["ticker", "hi"]
    assert result.rows == [["AAPL", 129.0], ["JPM", 129.0], ["MSFT", 129.0]]
    assert not result.truncated
    assert result.to_dict()["tables"] == ["prices"]


def test_row_cap_cuts_and_marks_truncated(warehouse_path: Path) -> None:
    con = open_locked(warehouse_path)
    try:
        result = run_query(con, "SELECT ticker, date FROM prices", row_cap=7)
    finally:
        con.close()
    assert result.row_count == 7 and result.truncated


def test_result_size_cap_cuts_and_marks_truncated(warehouse_path: Path) -> None:
    con = open_locked(warehouse_path)
    try:
        result = run_query(con, "SELECT ticker, date, source FROM prices", max_bytes=300)
    finally:
        con.close()
    assert 0 < result.row_count < 90 and result.truncated


@pytest.mark.parametrize(
    "sql",
    [
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
        "SELECT count(*) FROM prices a, prices b, prices c, prices d, prices e, prices f",
    ],
    ids=["recursive-cte", "cross-join"],
)
def test_runaway_query_is_interrupted_at_the_deadline(sql: str, warehouse_path: Path) -> None:
    con = open_locked(warehouse_path)
    try:
        with pytest.raises(QueryError) as info:
            run_query(con, sql, timeout_s=0.5)
        assert "limit" in str(info.value)
        # the connection is usable after an interrupt
        assert run_query(con, "SELECT count(*) AS n FROM prices").rows == [[90]]
    finally:
        con.close()


# ---- hypothesis: valid SELECTs over the schema are accepted (and run) ---------------------------

_COLUMNS = {
    "prices": ["ticker", "date", "adj_close", "close", "volume"],
    "macro": ["series", "date", "value"],
    "fundamentals": ["ticker", "fiscal_year", "item", "value"],
    "positions": ["portfolio", "ticker", "quantity", "as_of"],
    "loans": ["loan_id", "duration_months", "credit_amount", "age", "defaulted"],
}
_NUMERIC = {
    "prices": ["adj_close", "volume"],
    "macro": ["value"],
    "fundamentals": ["value", "fiscal_year"],
    "positions": ["quantity"],
    "loans": ["credit_amount", "age", "duration_months"],
}


@st.composite
def select_statements(draw: st.DrawFn) -> str:
    table = draw(st.sampled_from(sorted(_COLUMNS)))
    cols = draw(st.lists(st.sampled_from(_COLUMNS[table]), min_size=1, max_size=3, unique=True))
    num = draw(st.sampled_from(_NUMERIC[table]))
    shape = draw(st.sampled_from(["plain", "agg", "cte", "sub", "union", "window"]))
    limit = draw(st.integers(1, 50))
    where = draw(st.sampled_from(["", f" WHERE {num} > 0", f" WHERE {num} IS NOT NULL"]))
    if shape == "plain":
        return f"SELECT {', '.join(cols)} FROM {table}{where} ORDER BY 1 LIMIT {limit}"
    if shape == "agg":
        fn = draw(st.sampled_from(["avg", "min", "max", "sum", "count", "stddev_samp"]))
        return f"SELECT {cols[0]}, {fn}({num}) AS m FROM {table}{where} GROUP BY 1 ORDER BY 2 DESC"
    if shape == "cte":
        return (
            f"WITH t AS (SELECT {', '.join(cols)}, {num} AS x FROM {table}{where}) "
            f"SELECT * FROM t LIMIT {limit}"
        )
    if shape == "sub":
        return f"SELECT {cols[0]} FROM {table} WHERE {num} >= (SELECT avg({num}) FROM {table})"
    if shape == "union":
        return f"SELECT {cols[0]} FROM {table} UNION ALL SELECT {cols[0]} FROM {table} LIMIT 5"
    return (
        f"SELECT {cols[0]}, {num}, lag({num}) OVER (ORDER BY {cols[0]}) AS prev "
        f"FROM {table} QUALIFY row_number() OVER (ORDER BY {cols[0]}) <= {limit}"
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sql=select_statements())
def test_generated_selects_are_accepted_and_run(sql: str, warehouse_path: Path) -> None:
    guarded = check_sql(sql, BASE_TABLES)
    assert guarded.tables
    con = open_locked(warehouse_path)
    try:
        result = run_query(con, sql)
    finally:
        con.close()
    assert result.row_count >= 0
