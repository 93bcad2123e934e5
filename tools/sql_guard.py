"""The SQL guard: decides, before anything runs, whether a statement may reach the warehouse.

SECURITY.md rows 13 and 20. A statement passes only if sqlglot (duckdb dialect) parses it into
exactly one query whose root is a SELECT (WITH and UNION/INTERSECT/EXCEPT allowed), that contains no
DML/DDL/COPY/ATTACH/PRAGMA/SET/INSTALL/LOAD/CALL/Command node anywhere, reads only allow-listed
tables (or its own CTEs), calls no table function and no file/settings/catalog function, and touches
no personal-data column. The guard is the first wall; the locked read-only connection in
``tools.sql`` is the second (it refuses the same things even if this guard were bypassed).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from tools.errors import GuardError

# The structured tables an agent may read. Feature tables are added by name prefix at run time.
BASE_TABLES: frozenset[str] = frozenset(
    {"prices", "fundamentals", "macro", "positions", "loans", "quotes"}
)
FEATURE_TABLE_PREFIX = "feature"

# Personal data the LLM never sees (SECURITY.md 20): protected attributes of loan applicants.
PII_COLUMNS: dict[str, frozenset[str]] = {
    "loans": frozenset({"personal_status_sex", "foreign_worker", "telephone"}),
}

# Node types that must not appear anywhere in an accepted statement.
_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name)
    for name in (
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Create",
        "Drop",
        "Alter",
        "AlterColumn",
        "TruncateTable",
        "Copy",
        "Command",
        "Pragma",
        "Set",
        "SetItem",
        "Use",
        "Attach",
        "Detach",
        "Install",
        "Transaction",
        "Commit",
        "Rollback",
        "Describe",
        "Show",
        "Summarize",
        "Pivot",
        "Into",
        "LoadData",
        "Export",
        "Analyze",
    )
    if hasattr(exp, name)
)

# Functions that reach files, the network, settings, the catalog or extensions, by name.
_FORBIDDEN_FUNCTION = re.compile(
    r"^(read_\w*|\w*_scan|scan_\w*|glob|getenv|current_setting|set_\w*|query|query_table"
    r"|duckdb_\w*|pragma_\w*|sqlite_\w*|postgres_\w*|mysql_\w*|iceberg_\w*|delta_\w*|parquet_\w*"
    r"|json_execute_serialized_sql|install\w*|load\w*|http\w*|s3\w*|azure\w*|columns|which_secret"
    r"|enable_\w*|disable_\w*|checkpoint|force_checkpoint|export_\w*|import_\w*|system\w*|shell)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class GuardedQuery:
    """A statement the guard accepted: its normalized SQL and the tables it reads.

    ``run_sql`` is what actually runs: ``sql`` with every row filter applied (see
    ``check_sql``'s ``hide_rows``). ``sql`` is what is shown and logged, so the hidden values
    themselves never appear in an answer.
    """

    sql: str
    tables: tuple[str, ...]
    run_sql: str = ""


def allowed_tables(existing: Iterable[str]) -> frozenset[str]:
    """The allow-list for a warehouse holding ``existing`` tables: base plus feature tables."""
    names = set(existing)
    features = {n for n in names if n.startswith(FEATURE_TABLE_PREFIX)}
    return frozenset((BASE_TABLES & names) | features) if names else BASE_TABLES


def check_sql(
    sql: str,
    allowed: Iterable[str] = BASE_TABLES,
    *,
    hide_rows: Mapping[str, Sequence[str]] | None = None,
    hidden: Iterable[str] = (),
) -> GuardedQuery:
    """Accept one read-only query over allow-listed tables, or raise GuardError saying why.

    Args:
        sql: the statement as the model (or user) wrote it.
        allowed: table names that may be read.
        hide_rows: table -> its entity columns (``ticker``, ``issuer``, ``entity``); with
            ``hidden``, every read of such a table is replaced by a subquery without the rows
            whose entity is hidden, so no aggregate, join or computed name can reach them.
        hidden: entity values (upper case) to remove, e.g. the user's restricted tickers.

    Returns:
        The accepted query with its normalized SQL and the tables it reads.

    Raises:
        GuardError: the statement is not a single safe SELECT over allowed tables.
    """
    allow = {t.lower() for t in allowed}
    if not isinstance(sql, str) or not sql.strip():
        raise GuardError("empty SQL", hint="write one SELECT statement")
    if len(sql) > 20_000:
        raise GuardError("SQL longer than 20,000 characters", hint="write a shorter query")
    statements = _parse(sql)
    if len(statements) != 1:
        raise GuardError(
            f"exactly one statement is allowed, got {len(statements)}",
            hint="send a single SELECT without ';'-separated extra statements",
        )
    tree = statements[0]
    if not isinstance(tree, exp.Select | exp.SetOperation):
        raise GuardError(
            f"only SELECT queries are allowed, got {tree.key.upper()}",
            hint="rewrite as SELECT ... FROM an allowed table",
        )
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise GuardError(
                f"{node.key.upper()} is not allowed in a query",
                hint="only read data with SELECT; no writes, settings or commands",
            )
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables = _check_tables(tree, allow, ctes)
    _check_functions(tree)
    _check_pii(tree, tables)
    shown = tree.sql(dialect="duckdb")
    barred = sorted({h.upper() for h in hidden})
    if barred and hide_rows:
        _hide_rows(tree, {t.lower(): c for t, c in hide_rows.items() if c}, barred)
    return GuardedQuery(sql=shown, tables=tuple(sorted(tables)), run_sql=tree.sql(dialect="duckdb"))


def _hide_rows(
    tree: exp.Expression, columns: Mapping[str, Sequence[str]], barred: list[str]
) -> None:
    """Replace each read of a table in ``columns`` by the same table without the barred rows.

    A CTE that reuses a table's name is filtered too (``WITH prices AS (SELECT * FROM prices)``
    must not pass for the CTE and skip the table): safe, at worst an error for a CTE without
    the entity column.
    """
    values = ", ".join(exp.Literal.string(b).sql(dialect="duckdb") for b in barred)
    for table in list(tree.find_all(exp.Table)):
        name = table.name.lower()
        if name not in columns:
            continue
        keep = " AND ".join(
            f"coalesce(upper(CAST({exp.to_identifier(c).sql(dialect='duckdb')} AS VARCHAR)), '')"
            f" NOT IN ({values})"
            for c in columns[name]
        )
        alias = table.alias or table.name
        inner = sqlglot.parse_one(
            f"SELECT * FROM {exp.to_identifier(table.name).sql(dialect='duckdb')} WHERE {keep}",
            read="duckdb",
        )
        table.replace(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias))))


def _parse(sql: str) -> list[exp.Expression]:
    # sqlglot logs a warning when it falls back to a Command; the guard refuses those anyway.
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    sqlglot_log.setLevel(logging.ERROR)
    try:
        parsed = sqlglot.parse(sql, read="duckdb")
    except SqlglotError as exc:
        first = str(exc).splitlines()[0][:200]
        raise GuardError(
            f"the SQL does not parse: {first}", hint="write valid DuckDB SQL (one SELECT)"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - a parser crash is a rejection, never a pass
        raise GuardError("the SQL could not be parsed", hint="write simpler SQL") from exc
    finally:
        sqlglot_log.setLevel(level)
    return [p for p in parsed if isinstance(p, exp.Expression)]


def _check_tables(tree: exp.Expression, allow: set[str], ctes: set[str]) -> set[str]:
    read: set[str] = set()
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise GuardError(
                "table functions are not allowed in FROM",
                hint=f"read one of the allowed tables: {', '.join(sorted(allow))}",
            )
        name = table.name.lower()
        if table.args.get("catalog") is not None or (table.db and table.db.lower() != "main"):
            raise GuardError(
                f"qualified table '{table.sql(dialect='duckdb')}' is not allowed",
                hint="use the bare table name",
            )
        if name in ctes and not table.db:
            continue
        if name not in allow:
            raise GuardError(
                f"table '{table.name}' is not allowed",
                hint=f"allowed tables: {', '.join(sorted(allow))}",
            )
        read.add(name)
    return read


def _check_functions(tree: exp.Expression) -> None:
    for func in tree.find_all(exp.Func):
        name = func.name if isinstance(func, exp.Anonymous) else func.sql_name()
        if isinstance(func, exp.ReadCSV) or _FORBIDDEN_FUNCTION.match(name or ""):
            raise GuardError(
                f"function {name.lower()}() is not allowed",
                hint="use ordinary scalar and aggregate functions over the allowed tables",
            )


def _check_pii(tree: exp.Expression, tables: set[str]) -> None:
    denied = set().union(*(PII_COLUMNS.get(t, frozenset()) for t in tables)) if tables else set()
    if not denied:
        return
    relation_names = {t.lower() for t in tables} | {
        t.alias.lower() for t in tree.find_all(exp.Table) if t.alias
    }
    for column in tree.find_all(exp.Column):
        name = column.name.lower()
        if name in denied:
            raise GuardError(
                f"column '{column.name}' holds personal data and is not available",
                hint="leave personal-data columns out of the query",
            )
        if not column.table and name in relation_names:
            raise GuardError(
                f"selecting the whole row '{column.name}' is not allowed",
                hint="list the columns you need",
            )
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for select in tree.find_all(exp.Select):
        if not any(_is_star(e) for e in select.expressions):
            continue
        # Only a table read directly by this SELECT expands into its columns here.
        direct = {
            t.name.lower()
            for t in select.find_all(exp.Table)
            if t.parent_select is select and t.name.lower() not in ctes
        }
        pii_tables = sorted(direct & set(PII_COLUMNS))
        if pii_tables:
            raise GuardError(
                f"SELECT * is not allowed on {', '.join(pii_tables)} (it has personal-data "
                "columns)",
                hint="list the columns you need",
            )


def _is_star(projection: exp.Expression) -> bool:
    # count(*) also holds a Star node; only a projected * or t.* expands to every column.
    return isinstance(projection, exp.Star) or (
        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
    )
