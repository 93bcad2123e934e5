"""Declared schemas of the structured tables: types, keys, units and the checks each row must pass.

The schema is the single source for the DuckDB DDL, the loader's validation and the data docs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingestion.warehouse import Migration

TICKER_PATTERN = r"^\^?[A-Z][A-Z0-9.\-]{0,9}$"


@dataclass(frozen=True)
class Column:
    """One column: DuckDB type, whether it may be empty, and what a valid value is."""

    name: str
    dtype: str  # VARCHAR, DATE, DOUBLE, BIGINT
    description: str
    required: bool = True
    unit: str | None = None
    default: object | None = None  # value used when an optional column is absent from the file
    minimum: float | None = None
    exclusive_minimum: bool = False
    pattern: str | None = None
    choices: tuple[object, ...] | None = None


@dataclass(frozen=True)
class TableSchema:
    """A warehouse table: its columns, primary key and the column that dates each row."""

    name: str
    description: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...]
    date_column: str | None = None
    currency: str | None = "USD"
    references: dict[str, str] = field(default_factory=dict)  # column -> "table.column"

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> list[str]:
        """Column names in declared order."""
        return [c.name for c in self.columns]

    def ddl(self) -> str:
        """CREATE TABLE statement for this schema."""
        cols = ",\n  ".join(
            f'"{c.name}" {c.dtype}{"" if not c.required else " NOT NULL"}' for c in self.columns
        )
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {cols},\n"
            f"  PRIMARY KEY ({', '.join(self.keys)})\n)"
        )


def _col(name: str, dtype: str, description: str, **kwargs: object) -> Column:
    return Column(name, dtype, description, **kwargs)  # type: ignore[arg-type]


PRICES = TableSchema(
    name="prices",
    description="Daily prices of stocks and indices (adjusted close; raw OHLCV where known).",
    columns=(
        _col(
            "ticker",
            "VARCHAR",
            "Ticker symbol; indices start with ^ (^GSPC = S&P 500)",
            pattern=TICKER_PATTERN,
        ),
        _col("date", "DATE", "Trading day"),
        _col(
            "open",
            "DOUBLE",
            "Raw opening price",
            required=False,
            unit="USD",
            minimum=0,
            exclusive_minimum=True,
        ),
        _col(
            "high",
            "DOUBLE",
            "Raw daily high",
            required=False,
            unit="USD",
            minimum=0,
            exclusive_minimum=True,
        ),
        _col(
            "low",
            "DOUBLE",
            "Raw daily low",
            required=False,
            unit="USD",
            minimum=0,
            exclusive_minimum=True,
        ),
        _col(
            "close",
            "DOUBLE",
            "Raw closing price",
            required=False,
            unit="USD",
            minimum=0,
            exclusive_minimum=True,
        ),
        _col(
            "adj_close",
            "DOUBLE",
            "Close adjusted for splits and dividends",
            unit="USD",
            minimum=0,
            exclusive_minimum=True,
        ),
        _col("volume", "DOUBLE", "Shares traded", required=False, unit="shares", minimum=0),
        _col("currency", "VARCHAR", "Price currency", default="USD", choices=("USD",)),
        _col("source", "VARCHAR", "Where the row came from", default="user upload"),
    ),
    keys=("ticker", "date"),
    date_column="date",
)

MACRO = TableSchema(
    name="macro",
    description="Macroeconomic and market indicator series (one row per series and date).",
    columns=(
        _col(
            "series",
            "VARCHAR",
            "Series id, lower case (e.g. realgdp, vix, baa)",
            pattern=r"^[a-z][a-z0-9_]{0,39}$",
        ),
        _col("date", "DATE", "Observation date (period end for monthly/quarterly series)"),
        _col("value", "DOUBLE", "Observed value (see unit)"),
        _col("unit", "VARCHAR", "Unit of the value"),
        _col("frequency", "VARCHAR", "D daily, M monthly, Q quarterly", choices=("D", "M", "Q")),
        _col("source", "VARCHAR", "Where the series came from", default="user upload"),
    ),
    keys=("series", "date"),
    date_column="date",
    currency=None,
)

FUNDAMENTALS = TableSchema(
    name="fundamentals",
    description="Issuer fundamentals from filings, one line item per row, with source document "
    "and page; filing_date is when the figure became public (used by point-in-time reads).",
    columns=(
        _col("ticker", "VARCHAR", "Issuer ticker", pattern=TICKER_PATTERN),
        _col("fiscal_year", "BIGINT", "Fiscal year the figure belongs to", minimum=1900),
        _col("period_end", "DATE", "Balance-sheet date / end of the reporting period"),
        _col("filing_date", "DATE", "Date the filing was made public"),
        _col(
            "item",
            "VARCHAR",
            "Line item, snake_case (total_assets, net_income, ...)",
            pattern=r"^[a-z][a-z0-9_]{0,59}$",
        ),
        _col("value", "DOUBLE", "Reported value (see unit)"),
        _col("unit", "VARCHAR", "USD millions or millions of shares"),
        _col("source_doc", "VARCHAR", "Filing the figure was read from"),
        _col("source_page", "BIGINT", "1-based page of source_doc", minimum=1),
    ),
    keys=("ticker", "period_end", "item"),
    date_column="period_end",
)

LOANS = TableSchema(
    name="loans",
    description="Consumer loans with a default label (German credit, UCI Statlog, CC BY 4.0).",
    columns=(
        _col("loan_id", "BIGINT", "Loan identifier", minimum=1),
        _col("checking_status", "VARCHAR", "Status of existing checking account"),
        _col("duration_months", "BIGINT", "Duration of the loan", unit="months", minimum=1),
        _col("credit_history", "VARCHAR", "Credit history"),
        _col("purpose", "VARCHAR", "Purpose of the loan"),
        _col(
            "credit_amount", "DOUBLE", "Loan amount", unit="DM", minimum=0, exclusive_minimum=True
        ),
        _col("savings", "VARCHAR", "Savings account / bonds"),
        _col("employment_since", "VARCHAR", "Present employment since"),
        _col("installment_rate", "BIGINT", "Installment rate in % of disposable income", minimum=1),
        _col("personal_status_sex", "VARCHAR", "Personal status and sex"),
        _col("other_debtors", "VARCHAR", "Other debtors / guarantors"),
        _col("residence_since", "BIGINT", "Present residence since (years band)", minimum=0),
        _col("property", "VARCHAR", "Property"),
        _col("age", "BIGINT", "Age", unit="years", minimum=18),
        _col("other_installment_plans", "VARCHAR", "Other installment plans"),
        _col("housing", "VARCHAR", "Housing"),
        _col("existing_credits", "BIGINT", "Number of existing credits at this bank", minimum=0),
        _col("job", "VARCHAR", "Job"),
        _col("dependents", "BIGINT", "People liable to provide maintenance for", minimum=0),
        _col("telephone", "VARCHAR", "Telephone registered"),
        _col("foreign_worker", "VARCHAR", "Foreign worker"),
        _col("defaulted", "BIGINT", "1 = defaulted (bad credit), 0 = repaid", choices=(0, 1)),
    ),
    keys=("loan_id",),
    currency="DM",
)

POSITIONS = TableSchema(
    name="positions",
    description="Portfolio holdings: quantity of each ticker held at an as-of date.",
    columns=(
        _col("portfolio", "VARCHAR", "Portfolio id", pattern=r"^[A-Za-z0-9_\-]{1,40}$"),
        _col("ticker", "VARCHAR", "Ticker held (must exist in prices)", pattern=TICKER_PATTERN),
        _col("quantity", "DOUBLE", "Number of shares held (negative = short)", unit="shares"),
        _col("as_of", "DATE", "Date of the holding"),
    ),
    keys=("portfolio", "ticker", "as_of"),
    date_column="as_of",
    references={"ticker": "prices.ticker"},
)

TABLES: dict[str, TableSchema] = {
    t.name: t for t in (PRICES, FUNDAMENTALS, MACRO, LOANS, POSITIONS)
}

LOADS_DDL = """
CREATE TABLE IF NOT EXISTS loads (
  load_id VARCHAR PRIMARY KEY,
  table_name VARCHAR NOT NULL,
  file_name VARCHAR NOT NULL,
  file_sha256 VARCHAR NOT NULL,
  rows BIGINT NOT NULL,
  loaded_at TIMESTAMP NOT NULL,
  loaded_by VARCHAR NOT NULL,
  loader_version VARCHAR NOT NULL
)
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_tables", ";\n".join(t.ddl() for t in TABLES.values())),
    Migration("0002_loads", LOADS_DDL),
)
