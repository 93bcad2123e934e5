"""Loaders: a CSV/Parquet file (or a DataFrame) -> validated rows in a warehouse table, atomically.

Every problem in the input is collected and reported together (line numbers and columns), and
nothing is written unless the whole input is valid. Loading the same content twice is a no-op;
every load is recorded in the ``loads`` table for lineage (sha256, rows, time, user, loader
version).
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ingestion.errors import InputError, NotFoundError, Problem, StoreError, ValidationError
from ingestion.schemas import TABLES, Column, TableSchema
from ingestion.warehouse import Warehouse

LOADER_VERSION = "tables/1"
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class LoadReport:
    """What one load did."""

    table: str
    source: str
    sha256: str
    rows: int
    skipped: bool  # True when identical content had already been loaded

    def summary(self) -> str:
        """One line for the CLI."""
        if self.skipped:
            return (
                f"{self.table}: {self.source} already loaded (sha256 {self.sha256[:12]}), no change"
            )
        return f"{self.table}: loaded {self.rows:,} rows from {self.source}"


def read_table_file(path: Path) -> tuple[pd.DataFrame, str]:
    """Read a CSV or Parquet file as strings/raw values; return the frame and the file's sha256."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"no such file: {path}", hint="check the path")
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{path.name} is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}")
    sha = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise InputError(f"{path.name} is empty", hint="the file must have a header row and data")
    if data[:4] == b"PAR1":
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises many types for corrupt files
            raise InputError(f"{path.name} is not a readable Parquet file: {exc}") from exc
        return frame, sha
    text = _decode_text(data, path.name)
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path.name} is not a well-formed CSV file: {exc}") from exc
    if frame.empty:
        raise InputError(f"{path.name} has a header but no data rows")
    return frame, sha


def _decode_text(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM); anything else is refused with a guess of what it is."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            f"{name} is UTF-16 encoded", hint="save the file as UTF-8 CSV and load it again"
        )
    if b"\x00" in data[:8192]:
        raise InputError(
            f"{name} looks like a binary file, not CSV or Parquet",
            hint="export the data as UTF-8 CSV or as Parquet",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        guess = f" (it looks like {best.encoding})" if best is not None else ""
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{name} is not valid UTF-8{guess}: invalid byte at line {line}",
            hint="save the file as UTF-8 CSV and load it again",
        ) from exc


def validate_frame(schema: TableSchema, raw: pd.DataFrame, name: str) -> pd.DataFrame:
    """Check ``raw`` against ``schema``; return a typed frame or raise ValidationError."""
    raw = raw.rename(columns=lambda c: str(c).strip())
    problems: list[Problem] = []
    missing = [
        c.name
        for c in schema.columns
        if c.name not in raw.columns and c.required and c.default is None
    ]
    extra = [c for c in raw.columns if c not in schema.column_names]
    if missing:
        problems.append(Problem(f"missing column(s): {', '.join(missing)}"))
    if extra:
        problems.append(
            Problem(
                f"unexpected column(s): {', '.join(extra)}; "
                f"expected {', '.join(schema.column_names)}"
            )
        )
    if problems:
        raise ValidationError(f"{name} does not match table '{schema.name}'", problems)
    typed = pd.DataFrame(index=raw.index)
    for column in schema.columns:
        if column.name in raw.columns:
            typed[column.name] = _coerce(column, raw[column.name], problems)
        else:
            typed[column.name] = column.default
    problems.extend(_check_keys(schema, typed))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise ValidationError(f"{name} failed validation for table '{schema.name}'", problems)
    return typed.reset_index(drop=True)


def _line(index: object) -> int:
    return int(index) + 2  # type: ignore[call-overload]  # header is line 1


def _blank(values: pd.Series) -> pd.Series:
    as_text = values.astype("string")
    return values.isna() | as_text.str.strip().eq("").fillna(True)


def _coerce(column: Column, values: pd.Series, problems: list[Problem]) -> pd.Series:
    blank = _blank(values)
    if column.required:
        for idx in values.index[blank]:
            problems.append(Problem("value is required", _line(idx), column.name))
    if column.dtype == "DATE":
        parsed = pd.to_datetime(values.where(~blank), errors="coerce", format="ISO8601")
        bad = parsed.isna() & ~blank
        for idx in values.index[bad]:
            problems.append(
                Problem(f"'{values[idx]}' is not a date (use YYYY-MM-DD)", _line(idx), column.name)
            )
        typed = parsed.dt.date
    elif column.dtype in ("DOUBLE", "BIGINT"):
        numbers = pd.to_numeric(values.where(~blank), errors="coerce")
        bad = numbers.isna() & ~blank
        for idx in values.index[bad]:
            problems.append(Problem(f"'{values[idx]}' is not a number", _line(idx), column.name))
        if column.dtype == "BIGINT":
            fractional = numbers.notna() & (numbers % 1 != 0)
            for idx in values.index[fractional]:
                problems.append(
                    Problem(f"'{values[idx]}' is not a whole number", _line(idx), column.name)
                )
            typed = numbers.astype("Int64") if not fractional.any() else numbers
        else:
            typed = numbers.astype("float64")
        _check_range(column, typed, values, problems)
    else:
        typed = values.where(~blank).astype("string").str.strip()
        if column.pattern:
            ok = typed.str.fullmatch(column.pattern).fillna(True).astype(bool)
            for idx in values.index[~ok]:
                problems.append(
                    Problem(
                        f"'{values[idx]}' is not a valid {column.name}", _line(idx), column.name
                    )
                )
    if column.choices is not None:
        allowed = set(column.choices)
        for idx in values.index[~blank]:
            value = typed[idx]
            if value not in allowed:
                problems.append(
                    Problem(
                        f"'{values[idx]}' is not one of {sorted(map(str, allowed))}",
                        _line(idx),
                        column.name,
                    )
                )
    return typed


def _check_range(column: Column, typed: pd.Series, raw: pd.Series, problems: list[Problem]) -> None:
    if column.minimum is None:
        return
    if column.exclusive_minimum:
        bad = typed.notna() & (typed <= column.minimum)
        rule = f"must be greater than {column.minimum:g}"
    else:
        bad = typed.notna() & (typed < column.minimum)
        rule = f"must be at least {column.minimum:g}"
    for idx in typed.index[bad.astype(bool)]:
        problems.append(Problem(f"'{raw[idx]}' {rule}", _line(idx), column.name))


def _check_keys(schema: TableSchema, typed: pd.DataFrame) -> list[Problem]:
    keys = list(schema.keys)
    dup = typed.duplicated(subset=keys, keep=False) & typed[keys].notna().all(axis=1)
    problems = []
    for idx in typed.index[dup]:
        key = ", ".join(f"{k}={typed.at[idx, k]}" for k in keys)
        problems.append(Problem(f"duplicate key ({key})", _line(idx), None))
    return problems


def frame_sha256(frame: pd.DataFrame) -> str:
    """Content hash of a DataFrame (for idempotent loads of frames that have no file)."""
    digest = hashlib.sha256()
    digest.update(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def load_table(
    warehouse: Warehouse,
    table: str,
    source: Path | pd.DataFrame,
    *,
    loaded_by: str,
    source_name: str | None = None,
) -> LoadReport:
    """Validate ``source`` against ``table``'s schema and upsert it in one transaction.

    Rows whose key already exists are replaced; other rows are kept. Identical content that was
    already loaded into the same table is skipped.
    """
    schema = _schema(table)
    if isinstance(source, pd.DataFrame):
        raw, sha = source, frame_sha256(source)
        name = source_name or f"<{table} frame>"
    else:
        raw, sha = read_table_file(Path(source))
        name = source_name or Path(source).name
    if _already_loaded(warehouse, table, sha):
        return LoadReport(table, name, sha, 0, skipped=True)
    typed = validate_frame(schema, raw, name)
    try:
        with warehouse.writer() as con:
            _check_references(con, schema, typed, name)
            con.register("incoming", typed)
            cols = ", ".join(schema.column_names)
            con.execute(
                f"INSERT OR REPLACE INTO {schema.name} ({cols}) SELECT {cols} FROM incoming"
            )
            con.unregister("incoming")
            con.execute(
                "INSERT INTO loads VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?)",
                [str(uuid.uuid4()), table, name, sha, len(typed), loaded_by, LOADER_VERSION],
            )
    except duckdb.Error as exc:
        raise StoreError(f"loading {name} into {table} failed; nothing was written: {exc}") from exc
    return LoadReport(table, name, sha, len(typed), skipped=False)


def _schema(table: str) -> TableSchema:
    try:
        return TABLES[table]
    except KeyError:
        raise InputError(
            f"unknown table '{table}'", hint=f"choose one of: {', '.join(sorted(TABLES))}"
        ) from None


def _already_loaded(warehouse: Warehouse, table: str, sha: str) -> bool:
    if not warehouse.exists():
        return False
    with warehouse.reader() as con:
        if not _has_table(con, "loads"):
            return False
        row = con.execute(
            "SELECT count(*) FROM loads WHERE table_name = ? AND file_sha256 = ?", [table, sha]
        ).fetchall()
    return bool(row[0][0])


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows[0][0])


def _check_references(
    con: duckdb.DuckDBPyConnection, schema: TableSchema, typed: pd.DataFrame, name: str
) -> None:
    problems = []
    for column, target in schema.references.items():
        ref_table, ref_column = target.split(".")
        known = {
            r[0] for r in con.execute(f"SELECT DISTINCT {ref_column} FROM {ref_table}").fetchall()
        }
        for idx in typed.index[~typed[column].isin(known)]:
            problems.append(
                Problem(
                    f"unknown {column} '{typed.at[idx, column]}' (not in {ref_table})",
                    _line(idx),
                    column,
                )
            )
    if problems:
        raise ValidationError(
            f"{name} refers to unknown values",
            problems,
            hint=f"load the {', '.join(schema.references.values())} data first, or fix the rows",
        )


def table_overview(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """Every user table: name, row count, primary-key columns and the range of its date column."""
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_%' "
        "ESCAPE '\\' ORDER BY table_name"
    ).fetchall()
    keys_by_table: dict[str, list[str]] = {}
    for table_name, columns in con.execute(
        "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
        "WHERE constraint_type = 'PRIMARY KEY'"
    ).fetchall():
        keys_by_table[table_name] = list(columns)
    overview = []
    for (table_name,) in tables:
        date_col = _date_column(con, table_name)
        if date_col:
            rows, dmin, dmax = con.execute(
                f'SELECT count(*), min("{date_col}"), max("{date_col}") FROM "{table_name}"'
            ).fetchall()[0]
        else:
            rows, dmin, dmax = (
                con.execute(f'SELECT count(*) FROM "{table_name}"').fetchall()[0][0],
                None,
                None,
            )
        overview.append(
            {
                "name": table_name,
                "rows": int(rows),
                "keys": keys_by_table.get(table_name, []),
                "date_min": _iso(dmin),
                "date_max": _iso(dmax),
            }
        )
    return overview


def _date_column(con: duckdb.DuckDBPyConnection, table_name: str) -> str | None:
    schema = TABLES.get(table_name)
    if schema is not None:
        return schema.date_column
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "AND data_type IN ('DATE', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE') "
        "ORDER BY ordinal_position LIMIT 1",
        [table_name],
    ).fetchall()
    return rows[0][0] if rows else None


def _iso(value: object) -> str | None:
    if value is None:
        return None
    iso = getattr(value, "isoformat", None)
    text = iso() if iso else str(value)
    return re.sub(r"T00:00:00$", "", text)
