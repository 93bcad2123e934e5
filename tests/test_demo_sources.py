"""The demo tables built from packaged data: shape, keys, sources, and facts checked by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingestion import demo_sources
from ingestion.demo_sources import DATA_DIR

COLUMNS = {
    "prices": [
        "ticker", "date", "open", "high", "low", "close", "adj_close", "volume", "currency",
        "source",
    ],
    "macro": ["series", "date", "value", "unit", "frequency", "source"],
    "fundamentals": [
        "ticker", "fiscal_year", "period_end", "filing_date", "item", "value", "unit",
        "source_doc", "source_page",
    ],
    "loans": [
        "loan_id", "checking_status", "duration_months", "credit_history", "purpose",
        "credit_amount", "savings", "employment_since", "installment_rate",
        "personal_status_sex", "other_debtors", "residence_since", "property", "age",
        "other_installment_plans", "housing", "existing_credits", "job", "dependents",
        "telephone", "foreign_worker", "defaulted",
    ],
    "positions": ["portfolio", "ticker", "quantity", "as_of"],
}  # fmt: skip
KEYS = {
    "prices": ["ticker", "date"],
    "macro": ["series", "date"],
    "fundamentals": ["ticker", "period_end", "item"],
    "loans": ["loan_id"],
    "positions": ["portfolio", "ticker", "as_of"],
}
SKFOLIO_TICKERS = {
    "AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO", "LLY", "MRK", "MSFT",
    "PEP", "PFE", "PG", "RRC", "UNH", "WMT", "XOM",
}  # fmt: skip
FILINGS_READ = {
    "AMD_2015_10K", "BESTBUY_2017_10K", "BESTBUY_2019_10K", "BESTBUY_2023_10K",
    "COCACOLA_2017_10K", "JOHNSON_JOHNSON_2022_10K", "MICROSOFT_2016_10K", "MICROSOFT_2023_10K",
    "PEPSICO_2021_10K", "PEPSICO_2022_10K", "PFIZER_2021_10K", "WALMART_2018_10K",
    "WALMART_2020_10K",
}  # fmt: skip
NETWORK_EVENTS = ("socket.connect", "socket.getaddrinfo", "urllib.Request", "http.client.connect")

_recording: list[str] | None = None


def _audit(event: str, _args: tuple[object, ...]) -> None:
    if _recording is not None and event in NETWORK_EVENTS:
        _recording.append(event)


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Every demo frame, built once, with the network events seen while building them."""
    global _recording
    sys.addaudithook(_audit)  # hooks cannot be removed; _audit records only while building
    _recording = []
    try:
        frames = demo_sources.demo_frames()
        return frames, list(_recording)
    finally:
        _recording = None


@pytest.fixture(scope="module")
def frames(built: tuple[dict[str, pd.DataFrame], list[str]]) -> dict[str, pd.DataFrame]:
    return built[0]


def _fact(frames: dict[str, pd.DataFrame], ticker: str, period_end: str, item: str) -> pd.Series:
    table = frames["fundamentals"]
    rows = table[
        (table["ticker"] == ticker)
        & (table["period_end"] == pd.Timestamp(period_end))
        & (table["item"] == item)
    ]
    assert len(rows) == 1, (ticker, period_end, item)
    return rows.iloc[0]


def test_building_the_demo_reaches_no_network(built: tuple[dict, list[str]]) -> None:
    assert built[1] == []


def test_import_does_no_work() -> None:
    heavy = "{'pandas', 'skfolio', 'arch', 'statsmodels'}"
    code = f"import sys, ingestion.demo_sources; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_columns_and_keys(frames: dict[str, pd.DataFrame], table: str) -> None:
    frame = frames[table]
    assert list(frame.columns) == COLUMNS[table]
    assert not frame.duplicated(KEYS[table]).any()
    assert frame[KEYS[table]].notna().all().all()


def test_demo_frames_returns_exactly_the_five_tables(frames: dict[str, pd.DataFrame]) -> None:
    assert set(frames) == set(COLUMNS)


def test_prices_cover_stocks_and_indices(frames: dict[str, pd.DataFrame]) -> None:
    prices = frames["prices"]
    assert len(prices) >= 150_000
    assert set(prices["ticker"]) == SKFOLIO_TICKERS | {"GOOG", "IBM", "^GSPC", "^IXIC"}
    assert (prices["adj_close"] > 0).all()
    assert (prices["currency"] == "USD").all()
    assert pd.api.types.is_datetime64_any_dtype(prices["date"])
    assert (prices["date"] == prices["date"].dt.normalize()).all()
    for column in ["open", "high", "low", "close", "adj_close", "volume"]:
        assert prices[column].dtype == "float64"
    raw = prices.dropna(subset=["open", "high", "low", "close"])
    assert (raw[["open", "high", "low", "close"]] > 0).all().all()
    assert (raw["high"] >= raw["low"]).all()
    assert (prices["volume"].dropna() >= 0).all()


def test_prices_merge_sources_as_documented(frames: dict[str, pd.DataFrame]) -> None:
    prices = frames["prices"].set_index(["ticker", "date"])
    # skfolio stocks without another source carry adjusted closes only.
    pep = prices.loc[("PEP", pd.Timestamp("2010-06-01"))]
    assert pd.isna(pep["close"]) and pep["adj_close"] > 0
    # AAPL 2000-03-01: bokeh-sampledata's raw OHLCV, skfolio's adjusted close kept.
    aapl = prices.loc[("AAPL", pd.Timestamp("2000-03-01"))]
    assert (aapl["open"], aapl["close"], aapl["volume"]) == (118.56, 130.31, 9_616_100)
    assert aapl["adj_close"] < 5 and "skfolio" in aapl["source"]
    # ^GSPC: arch's OHLCV on arch's days; close = adj_close = skfolio's level elsewhere.
    gspc = prices.loc["^GSPC"]
    in_arch = gspc.loc["1999-01-04":"2018-12-31"]
    assert in_arch["open"].notna().all() and in_arch["volume"].notna().all()
    before = gspc.loc[:"1998-12-31"]
    assert before["open"].isna().all()
    assert (before["close"] == before["adj_close"]).all()
    assert (gspc["close"] - gspc["adj_close"]).abs().max() < 1e-3
    assert prices.loc["^IXIC"].index.min() == pd.Timestamp("1999-01-04")
    assert prices.loc["GOOG"].index.min() == pd.Timestamp("2004-08-19")


def test_macro_series_units_and_period_end_dates(frames: dict[str, pd.DataFrame]) -> None:
    macro = frames["macro"]
    expected = {
        "realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "tbilrate",
        "unemp", "pop", "infl", "realint", "vix", "wti", "brent", "aaa", "baa", "core_cpi",
    }  # fmt: skip
    assert set(macro["series"]) == expected
    assert set(macro["frequency"]) == {"D", "M", "Q"}
    assert macro["value"].notna().all() and macro["unit"].str.len().gt(0).all()
    periodic = macro[macro["frequency"] != "D"]
    assert periodic["date"].dt.is_month_end.all()
    quarterly = macro[macro["frequency"] == "Q"]
    assert quarterly["date"].dt.is_quarter_end.all()
    gdp = macro[macro["series"] == "realgdp"].set_index("date")["value"]
    assert gdp.index.min() == pd.Timestamp("1959-03-31")
    assert gdp.loc["1959-03-31"] == pytest.approx(2710.349)
    units = macro.drop_duplicates("series").set_index("series")["unit"]
    assert (
        units["wti"] == "USD/bbl" and units["baa"] == "percent" and units["vix"] == "index points"
    )


def test_fundamentals_cite_known_filings(frames: dict[str, pd.DataFrame]) -> None:
    fundamentals = frames["fundamentals"]
    assert set(fundamentals["source_doc"]) == FILINGS_READ
    assert (fundamentals["source_page"] >= 1).all()
    assert (fundamentals["filing_date"] >= fundamentals["period_end"]).all()
    assert set(fundamentals["ticker"]) <= SKFOLIO_TICKERS
    assert set(fundamentals["unit"]) == {"USD millions", "millions of shares"}
    shares = fundamentals["item"] == "shares_outstanding"
    assert (fundamentals.loc[shares, "unit"] == "millions of shares").all()
    assert fundamentals["fiscal_year"].dtype == "int64"


def test_fundamentals_balance(frames: dict[str, pd.DataFrame]) -> None:
    table = frames["fundamentals"]
    wide = table.pivot_table(index=["ticker", "period_end"], columns="item", values="value")
    wide = wide.dropna(subset=["total_assets"])
    gap = wide["total_assets"] - wide["total_liabilities"] - wide["total_equity"]
    assert gap.abs().max() <= 1  # Pfizer 2021 is off by 1 from rounding in the filing
    assert (wide["current_assets"] <= wide["total_assets"]).all()
    assert (wide["cash_and_equivalents"] <= wide["current_assets"]).all()


@pytest.mark.parametrize(
    ("ticker", "period_end", "item", "value", "doc", "page"),
    [
        # MICROSOFT_2023_10K p58 (income statements) and p60 (balance sheets).
        ("MSFT", "2023-06-30", "revenue", 211_915, "MICROSOFT_2023_10K", 58),
        ("MSFT", "2022-06-30", "net_income", 72_738, "MICROSOFT_2023_10K", 58),
        ("MSFT", "2023-06-30", "total_liabilities", 205_753, "MICROSOFT_2023_10K", 60),
        # AMD_2015_10K p58: stockholders' deficit of $(412) million; accumulated deficit.
        ("AMD", "2015-12-26", "total_equity", -412, "AMD_2015_10K", 58),
        ("AMD", "2015-12-26", "retained_earnings", -7_306, "AMD_2015_10K", 58),
        # COCACOLA_2017_10K p76: total liabilities = 87,896 - 18,977 (not printed).
        ("KO", "2017-12-31", "total_liabilities", 68_919, "COCACOLA_2017_10K", 76),
        # WALMART_2020_10K p51: total revenues.
        ("WMT", "2020-01-31", "revenue", 523_964, "WALMART_2020_10K", 51),
        # JOHNSON_JOHNSON_2022_10K p2: 2,604,286,303 shares outstanding on February 10, 2023.
        ("JNJ", "2023-02-10", "shares_outstanding", 2_604.286303, "JOHNSON_JOHNSON_2022_10K", 2),
        # PEPSICO_2021_10K p61: fiscal 2021 is kept from the first filing that reported it.
        ("PEP", "2021-12-25", "net_income", 7_618, "PEPSICO_2021_10K", 61),
        # BESTBUY_2023_10K p40: operating income, fiscal year ended January 28, 2023.
        ("BBY", "2023-01-28", "operating_income", 1_795, "BESTBUY_2023_10K", 40),
    ],
)
def test_fundamentals_spot_checks(
    frames: dict[str, pd.DataFrame],
    ticker: str,
    period_end: str,
    item: str,
    value: float,
    doc: str,
    page: int,
) -> None:
    row = _fact(frames, ticker, period_end, item)
    assert row["value"] == pytest.approx(value)
    assert (row["source_doc"], row["source_page"]) == (doc, page)


def test_fundamentals_filing_dates(frames: dict[str, pd.DataFrame]) -> None:
    # Dates signed on the filings' Signatures pages (PFIZER_2021_10K p121, MICROSOFT_2016_10K p104).
    assert _fact(frames, "PFE", "2021-12-31", "total_assets")["filing_date"] == pd.Timestamp(
        "2022-02-24"
    )
    assert _fact(frames, "MSFT", "2016-06-30", "revenue")["filing_date"] == pd.Timestamp(
        "2016-07-28"
    )


def test_loans_are_the_german_credit_data(frames: dict[str, pd.DataFrame]) -> None:
    loans = frames["loans"]
    assert len(loans) == 1000
    assert loans["loan_id"].tolist() == list(range(1, 1001))
    assert loans["defaulted"].sum() == 300 and set(loans["defaulted"]) == {0, 1}
    first = loans.iloc[0]
    assert (first["duration_months"], first["credit_amount"], first["age"]) == (6, 1169.0, 67)
    assert first["defaulted"] == 0 and loans.iloc[1]["defaulted"] == 1


def test_positions_hold_priced_tickers(frames: dict[str, pd.DataFrame]) -> None:
    positions, prices = frames["positions"], frames["prices"]
    assert set(positions["portfolio"]) == {"DEMO", "INCOME"}
    assert set(positions["ticker"]) <= set(prices["ticker"])
    assert (positions["quantity"] > 0).all()
    assert not positions.duplicated(["portfolio", "ticker", "as_of"]).any()
    demo = positions[positions["portfolio"] == "DEMO"]
    latest = demo[demo["as_of"] == demo["as_of"].max()]
    assert len(latest) == 20
    # Every DEMO book is priced on its own date (the batch values it without stale prices).
    for as_of, book in demo.groupby("as_of"):
        priced = prices[prices["date"] == as_of]
        assert set(book["ticker"]) <= set(priced["ticker"]), as_of
    # INCOME's IBM is the deliberate stale-price case: its prices end years before the book.
    income = positions[positions["portfolio"] == "INCOME"]
    last_ibm = prices.loc[prices["ticker"] == "IBM", "date"].max()
    assert "IBM" in set(income["ticker"]) and last_ibm < income["as_of"].min()


def test_frames_pass_the_warehouse_schemas(frames: dict[str, pd.DataFrame]) -> None:
    from ingestion.schemas import TABLES
    from ingestion.tables import validate_frame

    for name, frame in frames.items():
        assert len(validate_frame(TABLES[name], frame, f"demo:{name}")) == len(frame)


def test_documents_manifest_matches_the_files() -> None:
    import pypdf

    folder = DATA_DIR / "documents"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert {e["file"] for e in manifest} == {p.name for p in folder.iterdir()} - {"manifest.json"}
    for entry in manifest:
        assert entry["doc_type"] in {"10-K", "10-Q", "research_note", "memo"}
        date.fromisoformat(entry["doc_date"])
        assert entry["access_groups"] and entry["source"] and entry["issuer"]
        if entry["file"].endswith(".pdf"):
            pages = len(pypdf.PdfReader(folder / entry["file"]).pages)
            assert pages == len(entry["pages_kept"]) and 8 <= pages <= 20
            assert entry["access_groups"] == ["public"] and "https://" in entry["source"]


def test_synthetic_notes_are_labelled_and_the_secret_stays_in_the_memo() -> None:
    folder = DATA_DIR / "documents"
    manifest = {e["file"]: e for e in json.loads((folder / "manifest.json").read_text())}
    assert manifest["deal_team_memo.md"]["access_groups"] == ["deal-team"]
    assert manifest["jpm_public_note.md"]["access_groups"] == ["public"]
    for name in ("deal_team_memo.md", "jpm_public_note.md"):
        first_line = (folder / name).read_text(encoding="utf-8").splitlines()[0]
        assert first_line.startswith("SYNTHETIC DEMO CONTENT")
    public_text = (folder / "jpm_public_note.md").read_text(encoding="utf-8")
    assert "Bluebird" in (folder / "deal_team_memo.md").read_text(encoding="utf-8")
    assert "Bluebird" not in public_text and "1.85 billion" not in public_text


def test_shipped_data_is_small() -> None:
    total = sum(p.stat().st_size for p in Path(DATA_DIR).rglob("*") if p.is_file())
    assert total < 20 * 1024 * 1024
