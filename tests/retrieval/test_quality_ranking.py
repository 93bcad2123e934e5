"""Ranking quality on a small filing: the statement a question names wins, one hit per page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.retrieval.conftest import write

pytestmark = pytest.mark.slow

MDNA = """Management's Discussion and Analysis
Liquidity and capital resources
We expect capital expenditures to remain elevated as we invest in plant capacity and property.
Cash flow from operations funded purchases of equipment, dividends and share repurchases.
Capital expenditure plans for next year include new property, plant and equipment in Asia.
"""
CASH_FLOWS = "\n".join(
    [
        "Acme Industries and Subsidiaries",
        "Consolidated Statements of Cash Flows",
        "Years ended December 31",
        "(Millions) 2023 2022 2021",
        "Cash Flows from Operating Activities",
        *[f"Operating adjustment {i} {i * 17:,} {i * 13:,} {i * 11:,}" for i in range(45)],
        "Cash Flows from Investing Activities",
        "Purchases of property, plant and equipment (1,577) (1,373) (1,420)",
        "Proceeds from sale of businesses 846 1,065 142",
        *[f"Financing item {i} ({i * 7:,}) ({i * 5:,}) ({i * 3:,})" for i in range(30)],
    ]
)
BALANCE = "\n".join(
    [
        "Acme Industries and Subsidiaries",
        "Consolidated Balance Sheets",
        "(Millions) 2023 2022",
        "Property, plant and equipment — net 9,429 8,738",
        "Inventories 4,366 3,955",
        "Total assets 36,500 37,987",
    ]
)


@pytest.fixture(scope="module")
def filing_index(tmp_path_factory: pytest.TempPathFactory) -> object:
    from retrieval.factory import open_document_index

    home = tmp_path_factory.mktemp("quality")
    index = open_document_index(home / "home", vectors="chroma", device="cpu")
    path = write(Path(home) / "ACME_2023_10K.txt", "\f".join([MDNA, CASH_FLOWS, BALANCE]))
    (result,) = index.ingest([path], groups=["public"], uploaded_by="researcher")
    assert result.status == "indexed" and result.pages == 3
    return index


def test_the_statement_a_question_names_ranks_first(filing_index) -> None:
    found = filing_index.search(
        "What was the FY2023 capex? Answer using the cash flow statement.",
        groups=["public"],
        k=5,
    )
    assert found[0].page_start == 2  # not the MD&A page that talks about capital expenditure
    net_ppe = filing_index.search(
        "What is net PP&E at year end? Use the balance sheet.", groups=["public"], k=5
    )
    assert net_ppe[0].page_start == 3


def test_one_passage_per_page_and_passages_hold_page_text_only(filing_index) -> None:
    found = filing_index.search("cash flows investing financing", groups=["public"], k=10)
    pages = [(p.doc_id, p.page_start) for p in found]
    assert len(pages) == len(set(pages)) == 3  # three pages, each once
    for passage in found:
        page_text = [MDNA, CASH_FLOWS, BALANCE][passage.page_start - 1]
        assert all(line in page_text for line in passage.text.splitlines())


def test_the_company_a_question_names_wins_in_a_shared_store(tmp_path) -> None:
    from retrieval.factory import open_document_index

    index = open_document_index(tmp_path / "home", vectors="chroma", device="cpu")
    acme = write(tmp_path / "ACME_2023_10K.txt", "\f".join([MDNA, CASH_FLOWS, BALANCE]))
    index.ingest(
        [acme], groups=["public"], uploaded_by="researcher", title="Acme 10-K 2023", issuer="ACM"
    )
    # Another issuer's filing whose every page talks about capital expenditures.
    globex = write(
        tmp_path / "GLOBEX_2023_10K.txt",
        "\f".join(
            f"Globex capital expenditures and purchases of property, plant and equipment in "
            f"region {i} were funded from the cash flow statement's operating cash in FY2023."
            for i in range(8)
        ),
    )
    index.ingest([globex], groups=["public"], uploaded_by="researcher", title="Globex 10-K 2023")
    index.ranking.candidates = 1  # each store-wide list keeps its top 3 (k = 1)
    question = "What was ACM's FY2023 capex? Use the cash flow statement."  # the ticker
    (top,) = index.search(question, groups=["public"], k=1)
    assert (top.doc_name, top.page_start) == ("ACME_2023_10K", 2)
    assert index.search(question, groups=["deal-team"], k=1) == []  # still behind the allow-list
