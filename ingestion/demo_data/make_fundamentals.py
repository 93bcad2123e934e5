"""Build `fundamentals.csv` from hand-read 10-K figures, checked against the filing PDFs.

A build-time tool for developers, never run by the product. Every figure below was read by a
person from the cited page of the FinanceBench copy of the filing; running this script re-reads
those pages (pypdfium2 and pypdf) from ``/work/shared/data/financebench-dev/pdfs`` (or the folder
given as the first argument), fails if any printed figure, cover share count or signature date is
not found on its page exactly as recorded, and then rewrites ``fundamentals.csv`` beside it.

    python ingestion/demo_data/make_fundamentals.py [PDF_DIR]
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_PDF_DIR = Path("/work/shared/data/financebench-dev/pdfs")
COLUMNS = [
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

# (item, statement, label as printed, current-year figure, prior-year figure); statement is
# "bs" (balance sheet) or "is" (income statement); figures as printed, in USD millions.
# "_total_liabilities_and_equity" is read only to derive total_liabilities where a filing prints
# no total-liabilities line: total liabilities = total liabilities and equity - total equity.
Line = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class Filing:
    """One 10-K: where its statements, cover share count and signature date are."""

    doc: str
    ticker: str
    years: tuple[int, int]
    period_ends: tuple[str, str]
    bs_page: int
    is_page: int
    cover_page: int
    cover_text: str
    shares: int
    shares_as_of: str
    signature_page: int
    signed: str
    lines: tuple[Line, ...]


FILINGS: tuple[Filing, ...] = (
    Filing(
        doc="AMD_2015_10K",
        ticker="AMD",
        years=(2015, 2014),
        period_ends=("2015-12-26", "2014-12-27"),
        bs_page=58,
        is_page=56,
        cover_page=1,
        cover_text=(
            "793,248,190 shares of common stock, $0.01 par value per share, "
            "as of February 12, 2016."
        ),
        shares=793_248_190,
        shares_as_of="2016-02-12",
        signature_page=105,
        signed="February 18, 2016",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "785", "805"),
            ("current_assets", "bs", "Total current assets", "2,320", "2,736"),
            ("total_assets", "bs", "Total assets", "3,109", "3,767"),
            ("current_liabilities", "bs", "Total current liabilities", "1,403", "1,440"),
            ("retained_earnings", "bs", "Accumulated deficit", "(7,306)", "(6,646)"),
            ("total_equity", "bs", "Total stockholders' equity (deficit)", "(412)", "187"),
            (
                "_total_liabilities_and_equity",
                "bs",
                "Total liabilities and stockholders' equity (deficit)",
                "3,109",
                "3,767",
            ),
            ("revenue", "is", "Net revenue", "3,991", "5,506"),
            ("operating_income", "is", "Operating income (loss)", "(481)", "(155)"),
            ("net_income", "is", "Net loss", "(660)", "(403)"),
        ),
    ),
    Filing(
        doc="BESTBUY_2017_10K",
        ticker="BBY",
        years=(2017, 2016),
        period_ends=("2017-01-28", "2016-01-30"),
        bs_page=55,
        is_page=56,
        cover_page=1,
        cover_text="As of March 20, 2017 , the registrant had 309,110,840 shares",
        shares=309_110_840,
        shares_as_of="2017-03-20",
        signature_page=98,
        signed="March 24, 2017",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "2,240", "1,976"),
            ("current_assets", "bs", "Total current assets", "10,516", "9,886"),
            ("total_assets", "bs", "Total Assets", "13,856", "13,519"),
            ("current_liabilities", "bs", "Total current liabilities", "7,122", "6,925"),
            ("retained_earnings", "bs", "Retained earnings", "4,399", "4,130"),
            ("total_equity", "bs", "Total equity", "4,709", "4,378"),
            (
                "_total_liabilities_and_equity",
                "bs",
                "Total Liabilities and Equity",
                "13,856",
                "13,519",
            ),
            ("revenue", "is", "Revenue", "39,403", "39,528"),
            ("operating_income", "is", "Operating income", "1,854", "1,375"),
            (
                "net_income",
                "is",
                "Net earnings attributable to Best Buy Co., Inc. shareholders",
                "1,228",
                "897",
            ),
        ),
    ),
    Filing(
        doc="BESTBUY_2019_10K",
        ticker="BBY",
        years=(2019, 2018),
        period_ends=("2019-02-02", "2018-02-03"),
        bs_page=52,
        is_page=53,
        cover_page=1,
        cover_text="As of March 26, 2019 , the registrant had 267,804,388 shares",
        shares=267_804_388,
        shares_as_of="2019-03-26",
        signature_page=98,
        signed="March 28, 2019",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "1,980", "1,101"),
            ("current_assets", "bs", "Total current assets", "8,870", "9,829"),
            ("total_assets", "bs", "Total assets", "12,901", "13,049"),
            ("current_liabilities", "bs", "Total current liabilities", "7,513", "7,817"),
            ("retained_earnings", "bs", "Retained earnings", "2,985", "3,270"),
            ("total_equity", "bs", "Total equity", "3,306", "3,612"),
            (
                "_total_liabilities_and_equity",
                "bs",
                "Total liabilities and equity",
                "12,901",
                "13,049",
            ),
            ("revenue", "is", "Revenue", "42,879", "42,151"),
            ("operating_income", "is", "Operating income", "1,900", "1,843"),
            ("net_income", "is", "Net earnings", "1,464", "1,000"),
        ),
    ),
    Filing(
        doc="BESTBUY_2023_10K",
        ticker="BBY",
        years=(2023, 2022),
        period_ends=("2023-01-28", "2022-01-29"),
        bs_page=39,
        is_page=40,
        cover_page=1,
        cover_text="As of March 15, 2023, the registrant had 218,045,737 shares",
        shares=218_045_737,
        shares_as_of="2023-03-15",
        signature_page=68,
        signed="March 17, 2023",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "1,874", "2,936"),
            ("current_assets", "bs", "Total current assets", "8,802", "10,539"),
            ("total_assets", "bs", "Total assets", "15,803", "17,504"),
            ("current_liabilities", "bs", "Total current liabilities", "8,979", "10,674"),
            ("retained_earnings", "bs", "Retained earnings", "2,430", "2,668"),
            ("total_equity", "bs", "Total equity", "2,795", "3,020"),
            (
                "_total_liabilities_and_equity",
                "bs",
                "Total liabilities and equity",
                "15,803",
                "17,504",
            ),
            ("revenue", "is", "Revenue", "46,298", "51,761"),
            ("operating_income", "is", "Operating income", "1,795", "3,039"),
            ("net_income", "is", "Net earnings", "1,419", "2,454"),
        ),
    ),
    Filing(
        doc="COCACOLA_2017_10K",
        ticker="KO",
        years=(2017, 2016),
        period_ends=("2017-12-31", "2016-12-31"),
        bs_page=76,
        is_page=74,
        cover_page=1,
        cover_text="Common Stock as of February 16, 2018, was 4,265,906,533.",
        shares=4_265_906_533,
        shares_as_of="2018-02-16",
        signature_page=165,
        signed="February 23, 2018",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "6,006", "8,555"),
            ("current_assets", "bs", "TOTAL CURRENT ASSETS", "36,545", "34,010"),
            ("total_assets", "bs", "TOTAL ASSETS", "87,896", "87,270"),
            ("current_liabilities", "bs", "TOTAL CURRENT LIABILITIES", "27,194", "26,532"),
            ("retained_earnings", "bs", "Reinvested earnings", "60,430", "65,502"),
            ("total_equity", "bs", "TOTAL EQUITY", "18,977", "23,220"),
            (
                "_total_liabilities_and_equity",
                "bs",
                "TOTAL LIABILITIES AND EQUITY",
                "87,896",
                "87,270",
            ),
            ("revenue", "is", "NET OPERATING REVENUES", "35,410", "41,863"),
            ("operating_income", "is", "OPERATING INCOME", "7,501", "8,626"),
            (
                "net_income",
                "is",
                "NET INCOME ATTRIBUTABLE TO SHAREOWNERS OF THE COCA-COLA COMPANY",
                "1,248",
                "6,527",
            ),
        ),
    ),
    Filing(
        doc="JOHNSON_JOHNSON_2022_10K",
        ticker="JNJ",
        years=(2022, 2021),
        period_ends=("2023-01-01", "2022-01-02"),
        bs_page=46,
        is_page=47,
        cover_page=2,
        cover_text=(
            "On February 10, 2023, there were 2,604,286,303 shares of Common Stock outstanding."
        ),
        shares=2_604_286_303,
        shares_as_of="2023-02-10",
        signature_page=117,
        signed="February 16, 2023",
        lines=(
            (
                "cash_and_equivalents",
                "bs",
                "Cash and cash equivalents (Notes 1 and 2)",
                "14,127",
                "14,487",
            ),
            ("current_assets", "bs", "Total current assets", "55,294", "60,979"),
            ("total_assets", "bs", "Total assets", "187,378", "182,018"),
            ("current_liabilities", "bs", "Total current liabilities", "55,802", "45,226"),
            ("retained_earnings", "bs", "Retained earnings", "128,345", "123,060"),
            ("total_equity", "bs", "Total shareholders' equity", "76,804", "74,023"),
            ("total_liabilities", "bs", "Total liabilities", "110,574", "107,995"),
            ("revenue", "is", "Sales to customers", "94,943", "93,775"),
            ("net_income", "is", "Net earnings", "17,941", "20,878"),
            # no operating-income line in J&J's statement of earnings
        ),
    ),
    Filing(
        doc="MICROSOFT_2016_10K",
        ticker="MSFT",
        years=(2016, 2015),
        period_ends=("2016-06-30", "2015-06-30"),
        bs_page=54,
        is_page=52,
        cover_page=1,
        cover_text=(
            "As of July 25, 2016, there were 7,792,515,573 shares of common stock outstanding."
        ),
        shares=7_792_515_573,
        shares_as_of="2016-07-25",
        signature_page=104,
        signed="July 28, 2016",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "6,510", "5,595"),
            ("current_assets", "bs", "Total current assets", "139,660", "122,797"),
            ("total_assets", "bs", "Total assets", "193,694", "174,472"),
            ("current_liabilities", "bs", "Total current liabilities", "59,357", "49,647"),
            ("retained_earnings", "bs", "Retained earnings", "2,282", "9,096"),
            ("total_equity", "bs", "Total stockholders' equity", "71,997", "80,083"),
            ("total_liabilities", "bs", "Total liabilities", "121,697", "94,389"),
            ("revenue", "is", "Total revenue", "85,320", "93,580"),
            ("operating_income", "is", "Operating income", "20,182", "18,161"),
            ("net_income", "is", "Net income", "16,798", "12,193"),
        ),
    ),
    Filing(
        doc="MICROSOFT_2023_10K",
        ticker="MSFT",
        years=(2023, 2022),
        period_ends=("2023-06-30", "2022-06-30"),
        bs_page=60,
        is_page=58,
        cover_page=1,
        cover_text=(
            "As of July 24, 2023, there were 7,429,763,722 shares of common stock outstanding."
        ),
        shares=7_429_763_722,
        shares_as_of="2023-07-24",
        signature_page=109,
        signed="July 27, 2023",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "34,704", "13,931"),
            ("current_assets", "bs", "Total current assets", "184,257", "169,684"),
            ("total_assets", "bs", "Total assets", "411,976", "364,840"),
            ("current_liabilities", "bs", "Total current liabilities", "104,149", "95,082"),
            ("retained_earnings", "bs", "Retained earnings", "118,848", "84,281"),
            ("total_equity", "bs", "Total stockholders' equity", "206,223", "166,542"),
            ("total_liabilities", "bs", "Total liabilities", "205,753", "198,298"),
            ("revenue", "is", "Total revenue", "211,915", "198,270"),
            ("operating_income", "is", "Operating income", "88,523", "83,383"),
            ("net_income", "is", "Net income", "72,361", "72,738"),
        ),
    ),
    Filing(
        doc="PEPSICO_2021_10K",
        ticker="PEP",
        years=(2021, 2020),
        period_ends=("2021-12-25", "2020-12-26"),
        bs_page=65,
        is_page=61,
        cover_page=2,
        cover_text="Common Stock outstanding as of February 3, 2022 was 1,383,451,400.",
        shares=1_383_451_400,
        shares_as_of="2022-02-03",
        signature_page=129,
        signed="February 9, 2022",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "5,596", "8,185"),
            ("current_assets", "bs", "Total Current Assets", "21,783", "23,001"),
            ("total_assets", "bs", "Total Assets", "92,377", "92,918"),
            ("current_liabilities", "bs", "Total Current Liabilities", "26,220", "23,372"),
            ("retained_earnings", "bs", "Retained earnings", "65,165", "63,443"),
            ("total_equity", "bs", "Total Equity", "16,151", "13,552"),
            ("total_liabilities", "bs", "Total Liabilities", "76,226", "79,366"),
            ("revenue", "is", "Net Revenue", "79,474", "70,372"),
            ("operating_income", "is", "Operating Profit", "11,162", "10,080"),
            ("net_income", "is", "Net Income Attributable to PepsiCo", "7,618", "7,120"),
        ),
    ),
    Filing(
        doc="PEPSICO_2022_10K",
        ticker="PEP",
        years=(2022, 2021),
        period_ends=("2022-12-31", "2021-12-25"),
        bs_page=66,
        is_page=62,
        cover_page=2,
        cover_text="Common Stock outstanding as of February 2, 2023 was 1,377,251,316.",
        shares=1_377_251_316,
        shares_as_of="2023-02-02",
        signature_page=129,
        signed="February 8, 2023",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "4,954", "5,596"),
            ("current_assets", "bs", "Total Current Assets", "21,539", "21,783"),
            ("total_assets", "bs", "Total Assets", "92,187", "92,377"),
            ("current_liabilities", "bs", "Total Current Liabilities", "26,785", "26,220"),
            ("retained_earnings", "bs", "Retained earnings", "67,800", "65,165"),
            ("total_equity", "bs", "Total Equity", "17,273", "16,151"),
            ("total_liabilities", "bs", "Total Liabilities", "74,914", "76,226"),
            ("revenue", "is", "Net Revenue", "86,392", "79,474"),
            ("operating_income", "is", "Operating Profit", "11,512", "11,162"),
            ("net_income", "is", "Net Income Attributable to PepsiCo", "8,910", "7,618"),
        ),
    ),
    Filing(
        doc="PFIZER_2021_10K",
        ticker="PFE",
        years=(2021, 2020),
        period_ends=("2021-12-31", "2020-12-31"),
        bs_page=59,
        is_page=57,
        cover_page=1,
        cover_text="common stock as of February 22, 2022 was 5,623,346,471 shares",
        shares=5_623_346_471,
        shares_as_of="2022-02-22",
        signature_page=121,
        signed="Dated: February 24, 2022",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "1,944", "1,786"),
            ("current_assets", "bs", "Total current assets", "59,693", "35,067"),
            ("total_assets", "bs", "Total assets", "181,476", "154,229"),
            ("current_liabilities", "bs", "Total current liabilities", "42,671", "25,920"),
            ("retained_earnings", "bs", "Retained earnings", "103,394", "90,392"),
            ("total_equity", "bs", "Total equity", "77,462", "63,473"),
            ("total_liabilities", "bs", "Total liabilities", "104,013", "90,756"),
            ("revenue", "is", "Revenues", "81,288", "41,651"),
            (
                "net_income",
                "is",
                "Net income attributable to Pfizer Inc. common shareholders",
                "21,979",
                "9,159",
            ),
            # no operating-income line in Pfizer's statement of income
        ),
    ),
    Filing(
        doc="WALMART_2018_10K",
        ticker="WMT",
        years=(2018, 2017),
        period_ends=("2018-01-31", "2017-01-31"),
        bs_page=59,
        is_page=57,
        cover_page=2,
        cover_text=(
            "The registrant had 2,950,696,818 shares of common stock outstanding "
            "as of March 28, 2018"
        ),
        shares=2_950_696_818,
        shares_as_of="2018-03-28",
        signature_page=92,
        signed="Date: March 30, 2018",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "6,756", "6,867"),
            ("current_assets", "bs", "Total current assets", "59,664", "57,689"),
            ("total_assets", "bs", "Total assets", "204,522", "198,825"),
            ("current_liabilities", "bs", "Total current liabilities", "78,521", "66,928"),
            ("retained_earnings", "bs", "Retained earnings", "85,107", "89,354"),
            ("total_equity", "bs", "Total equity", "80,822", "80,535"),
            (
                "_total_liabilities_and_equity",
                "bs",
                "Total liabilities and equity",
                "204,522",
                "198,825",
            ),
            ("revenue", "is", "Total revenues", "500,343", "485,873"),
            ("operating_income", "is", "Operating income", "20,437", "22,764"),
            (
                "net_income",
                "is",
                "Consolidated net income attributable to Walmart",
                "9,862",
                "13,643",
            ),
        ),
    ),
    Filing(
        doc="WALMART_2020_10K",
        ticker="WMT",
        years=(2020, 2019),
        period_ends=("2020-01-31", "2019-01-31"),
        bs_page=53,
        is_page=51,
        cover_page=2,
        cover_text=(
            "The registrant had 2,832,277,220 shares of common stock outstanding "
            "as of March 18, 2020."
        ),
        shares=2_832_277_220,
        shares_as_of="2020-03-18",
        signature_page=89,
        signed="Date: March 20, 2020",
        lines=(
            ("cash_and_equivalents", "bs", "Cash and cash equivalents", "9,465", "7,722"),
            ("current_assets", "bs", "Total current assets", "61,806", "61,897"),
            ("total_assets", "bs", "Total assets", "236,495", "219,295"),
            ("current_liabilities", "bs", "Total current liabilities", "77,790", "77,477"),
            ("retained_earnings", "bs", "Retained earnings", "83,943", "80,785"),
            ("total_equity", "bs", "Total equity", "81,552", "79,634"),
            (
                "_total_liabilities_and_equity",
                "bs",
                "Total liabilities and equity",
                "236,495",
                "219,295",
            ),
            ("revenue", "is", "Total revenues", "523,964", "514,405"),
            ("operating_income", "is", "Operating income", "20,568", "21,957"),
            (
                "net_income",
                "is",
                "Consolidated net income attributable to Walmart",
                "14,881",
                "6,670",
            ),
        ),
    ),
)


def _normalise(text: str) -> str:
    """Collapse whitespace and typographic quotes so printed labels match reliably."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\xa0", " ")
    return re.sub(r"\s+", " ", text)


def _page_texts(pdf: Path, page: int) -> list[str]:
    """Text of one 1-based page as extracted by both pypdfium2 and pypdf."""
    import pypdf
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        pdfium_text = doc[page - 1].get_textpage().get_text_range()
    finally:
        doc.close()
    pypdf_text = pypdf.PdfReader(pdf).pages[page - 1].extract_text()
    return [_normalise(pdfium_text), _normalise(pypdf_text)]


def _figure_pattern(label: str, current: str, prior: str) -> re.Pattern[str]:
    """Regex for a statement row: the label, then both figures, `$` signs optional."""
    money = r"\s*\$?\s*"
    return re.compile(
        re.escape(_normalise(label))
        + money
        + re.escape(current)
        + money
        + re.escape(prior)
        + r"(?![\d,])"
    )


def _printed_to_float(printed: str) -> float:
    """'(7,306)' -> -7306.0; '2,320' -> 2320.0."""
    negative = printed.startswith("(") and printed.endswith(")")
    value = float(printed.strip("()").replace(",", ""))
    return -value if negative else value


def _check(found: bool, what: str) -> None:
    if not found:
        raise SystemExit(f"not found as recorded: {what}")


def _iso(text_date: str) -> str:
    """'Date: March 30, 2018' or 'February 18, 2016' -> '2018-03-30'."""
    bare = text_date.split(":", 1)[-1].strip()
    return datetime.strptime(bare, "%B %d, %Y").date().isoformat()


def rows_for(filing: Filing, pdf_dir: Path) -> list[dict[str, object]]:
    """Verify one filing's recorded figures against its PDF and return its CSV rows."""
    pdf = pdf_dir / f"{filing.doc}.pdf"
    pages = {
        "bs": _page_texts(pdf, filing.bs_page),
        "is": _page_texts(pdf, filing.is_page),
    }
    filing_date = _iso(filing.signed)
    _check(
        any(_normalise(filing.signed) in t for t in _page_texts(pdf, filing.signature_page)),
        f"{filing.doc} signature date {filing.signed}",
    )
    cover = _page_texts(pdf, filing.cover_page)
    _check(
        any(_normalise(filing.cover_text) in t.replace("  ", " ") for t in cover),
        f"{filing.doc} cover share count",
    )
    _check(f"{filing.shares:,}" in filing.cover_text, f"{filing.doc} share count transcription")

    base = {"ticker": filing.ticker, "filing_date": filing_date, "source_doc": filing.doc}
    values: dict[tuple[str, int], float] = {}
    rows: list[dict[str, object]] = []
    for item, statement, label, current, prior in filing.lines:
        pattern = _figure_pattern(label, current, prior)
        _check(
            any(pattern.search(t) for t in pages[statement]),
            f"{filing.doc} p{getattr(filing, statement + '_page')} {label} {current} {prior}",
        )
        for col, printed in enumerate((current, prior)):
            values[(item, col)] = _printed_to_float(printed)
            if item.startswith("_"):
                continue
            rows.append(
                {
                    **base,
                    "fiscal_year": filing.years[col],
                    "period_end": filing.period_ends[col],
                    "item": item,
                    "value": values[(item, col)],
                    "unit": "USD millions",
                    "source_page": getattr(filing, statement + "_page"),
                }
            )
    for col in (0, 1):
        if ("_total_liabilities_and_equity", col) in values:
            derived = values[("_total_liabilities_and_equity", col)] - values[("total_equity", col)]
            rows.append(
                {
                    **base,
                    "fiscal_year": filing.years[col],
                    "period_end": filing.period_ends[col],
                    "item": "total_liabilities",
                    "value": derived,
                    "unit": "USD millions",
                    "source_page": filing.bs_page,
                }
            )
    rows.append(
        {
            **base,
            "fiscal_year": filing.years[0],
            "period_end": filing.shares_as_of,
            "item": "shares_outstanding",
            "value": filing.shares / 1e6,
            "unit": "millions of shares",
            "source_page": filing.cover_page,
        }
    )
    return rows


def build(pdf_dir: Path) -> list[dict[str, object]]:
    """All filings' rows; a period reported in two filings keeps the first-filed figures."""
    rows: list[dict[str, object]] = []
    seen: set[tuple[object, object, object]] = set()
    for filing in sorted(FILINGS, key=lambda f: _iso(f.signed)):
        for row in rows_for(filing, pdf_dir):
            key = (row["ticker"], row["period_end"], row["item"])
            if key not in seen:
                seen.add(key)
                rows.append(row)
    for row in rows:
        assert date.fromisoformat(str(row["filing_date"])) >= date.fromisoformat(
            str(row["period_end"])
        )
    return sorted(rows, key=lambda r: (str(r["ticker"]), str(r["period_end"]), str(r["item"])))


def main() -> None:
    """Check every figure against its PDF page and write fundamentals.csv."""
    pdf_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PDF_DIR
    rows = build(pdf_dir)
    with (HERE / "fundamentals.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "value": f"{row['value']:.6f}".rstrip("0").rstrip(".")})
    print(f"wrote {len(rows)} rows from {len(FILINGS)} filings")


if __name__ == "__main__":
    main()
