"""The batch sources: one row per (entity, ts) with the inputs the features read, as SQL.

Each source's base query is plain SQL over the warehouse tables (prices, quotes, fundamentals,
macro) that DuckDB and Spark SQL both run; fundamentals are point-in-time by filing date.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from features.definitions import MACRO_ENTITY, MARKET_TICKER, FeatureDefinition

if TYPE_CHECKING:
    import duckdb

# The temp table an engine that computes outside the query stages (entity, ts, one column per
# feature) in; ``features.batch`` drops it after each write.
STAGED = "_feature_long"
ORDER_ERROR = "feature batch: rows reached the window pass out of (entity, ts) order"
# The warehouse table each source reads (and the column that dates its rows).
SOURCE_TABLES = {
    "bars": ("prices", "date"),
    "quotes": ("quotes", "ts"),
    "filings": ("fundamentals", "filing_date"),
    "macro": ("macro", "date"),
}


def unpivot(table: str, definitions: list[FeatureDefinition]) -> str:
    """SQL giving (entity, ts, feature, value) for every finite value of wide ``table``."""
    names = ", ".join(f'"{d.name}"' for d in definitions)
    return (
        f"SELECT entity, ts, feature, value FROM (UNPIVOT {table} ON {names} "
        "INTO NAME feature VALUE value) WHERE isfinite(value)"
    )


def sql_date(value: date) -> str:
    """``value`` as a SQL DATE literal."""
    return f"DATE '{value.isoformat()}'"


def base_query(source: str, definitions: list[FeatureDefinition]) -> str:
    """One row per (entity, ts) with the inputs the definitions read."""
    inputs = sorted(set().union(*(d.expr.inputs() for d in definitions)))
    if source == "bars":
        return (
            # An index's close x volume is not a dollar amount: indices get no liquidity inputs.
            "SELECT p.ticker AS entity, p.date AS ts, p.adj_close, "
            "CASE WHEN p.ticker NOT LIKE '^%' THEN p.close END AS close, "
            "CASE WHEN p.ticker NOT LIKE '^%' THEN p.volume END AS volume, "
            "m.market_log_return FROM prices p LEFT JOIN (SELECT date, "
            "LN(adj_close / LAG(adj_close) OVER (ORDER BY date)) AS market_log_return "
            f"FROM prices WHERE ticker = '{MARKET_TICKER}') m ON m.date = p.date"
        )
    if source == "quotes":
        return "SELECT ticker AS entity, ts, bid, ask, bid_size, ask_size FROM quotes"
    if source == "filings":
        pivot = ", ".join(
            f"MAX(f.value) FILTER (WHERE f.item = '{item}') AS \"{item}\"" for item in inputs
        )
        listed = ", ".join(f"'{item}'" for item in inputs)
        # Only the items the features read pick the period: a cover-page share count dated
        # after the balance sheet must not hide the balance sheet.
        return (
            f"WITH fi AS (SELECT * FROM fundamentals WHERE item IN ({listed})), "
            "fd AS (SELECT DISTINCT ticker, filing_date FROM fi), "
            "pe AS (SELECT fd.ticker, fd.filing_date, MAX(f.period_end) AS period_end FROM fd "
            "JOIN fi f ON f.ticker = fd.ticker AND f.filing_date <= fd.filing_date "
            "GROUP BY fd.ticker, fd.filing_date) "
            f"SELECT pe.ticker AS entity, pe.filing_date AS ts, {pivot} FROM pe "
            "LEFT JOIN fi f ON f.ticker = pe.ticker AND f.period_end = pe.period_end "
            "AND f.filing_date <= pe.filing_date GROUP BY pe.ticker, pe.filing_date"
        )
    if source == "macro":
        pivot = ", ".join(
            f"MAX(value) FILTER (WHERE series = '{series}') AS \"{series}\"" for series in inputs
        )
        listed = ", ".join(f"'{s}'" for s in inputs)
        return (
            f"SELECT '{MACRO_ENTITY}' AS entity, date AS ts, {pivot} FROM macro "
            f"WHERE series IN ({listed}) GROUP BY date"
        )
    raise ValueError(f"unknown source {source}")


def entity_query(source: str, base: str) -> str:
    """Distinct entities of a source (read from its table: cheaper than the base query)."""
    table = {"bars": "prices", "quotes": "quotes"}.get(source)
    if table is None:
        return f"SELECT DISTINCT entity FROM ({base})"
    return f"SELECT DISTINCT ticker AS entity FROM {table}"


def trimmed(base: str, since: date, lookback: int) -> str:
    """Keep, per entity, only the rows from ``lookback`` rows before the first row >= since."""
    return (
        f"WITH b AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY entity ORDER BY ts) AS _rn "
        f"FROM ({base})), cut AS (SELECT entity, MIN(_rn) AS _first FROM b "
        f"WHERE ts >= {sql_date(since)} GROUP BY entity) "
        f"SELECT b.* EXCLUDE (_rn) FROM b JOIN cut USING (entity) "
        f"WHERE b._rn >= cut._first - {lookback}"
    )


def source_state(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """A fingerprint of a source table's contents: rows, last date, last load time."""
    table, column = SOURCE_TABLES[source]
    loads = (
        f"(SELECT MAX(loaded_at) FROM loads WHERE table_name = '{table}')"
        if _has_table(con, "loads")
        else "NULL"
    )
    row = con.execute(f"SELECT COUNT(*), MAX({column}), {loads} FROM {table}").fetchall()[0]
    return "|".join(str(v) for v in row)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0][0]
    )
