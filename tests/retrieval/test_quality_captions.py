"""Contextual chunk headers: every chunk of a statement page says which statement it belongs to."""

from __future__ import annotations

from ingestion.documents.chunking import chunk_pages, page_caption, statement_of, strip_header
from retrieval.embeddings import CHUNK_TOKENS, MAX_WORDPIECES, count_tokens

CASH_FLOW_PAGE = "\n".join(
    [
        "Table of Contents",
        "Acme Industries and Subsidiaries",
        "Consolidated Statement of Cash Flow s",  # PDF text splits words
        "Years ended December 31",
        "(Millions) 2023 2022 2021",
        "Cash Flows from Operating Activities",
        *[f"Operating line item {i} {i * 17:,} {i * 13:,} {i * 11:,}" for i in range(60)],
        "Purchases of property, plant and equipment (1,577) (1,373) (1,420)",
        *[f"Financing line item {i} ({i * 7:,}) ({i * 5:,}) ({i * 3:,})" for i in range(40)],
    ]
)


def test_statement_titles_are_recognised_despite_pdf_word_splits() -> None:
    assert statement_of("Consolidated Balance Shee t") == "balance sheet"
    assert statement_of("CONSOLIDATED STATEMENTS OF INCOME") == "income statement"
    assert statement_of("Consolidated Statements of Operations") == "income statement"
    assert statement_of("Statements of Financial Position") == "balance sheet"
    assert statement_of("COMPREHENSIVE INCOME STATEMENTS") == "statement of comprehensive income"
    assert statement_of("Consolidated Statements of Shareholders’ Equity") == (
        "statement of shareholders' equity"
    )
    # A note or a sentence that mentions a statement is not its title.
    assert statement_of("Notes to Consolidated Financial Statements") is None
    assert (
        statement_of(
            "The accompanying notes are an integral part of the consolidated statements of income"
        )
        is None
    )


def test_page_captions_skip_running_heads_and_stop_at_the_text() -> None:
    lines = CASH_FLOW_PAGE.splitlines()
    assert page_caption(lines) == (
        "Acme Industries and Subsidiaries · Consolidated Statement of Cash Flow s · "
        "Years ended December 31 (cash flow statement)"
    )
    prose = [
        "Vendor Allowances",
        "We receive funds from our vendors through a variety of programs.",
    ]
    assert page_caption(prose) == "Vendor Allowances"
    notes = ["Notes to Consolidated Financial Statements", "Acme Inc.", "Note 4. Income taxes"]
    assert (
        page_caption(notes)
        == "Notes to Consolidated Financial Statements · Acme Inc. · Note 4. Income taxes"
    )
    table = ["2023 2022 2021", "Net sales $ 34,229 $ 35,355 $ 32,184"]
    assert page_caption(table) is None
    assert page_caption(["• The Firm’s CET1 capital was $206 billion, and the"]) is None


def test_every_chunk_of_a_statement_page_carries_its_caption_and_fits() -> None:
    chunks = chunk_pages([(7, CASH_FLOW_PAGE)], count_tokens=count_tokens, max_tokens=CHUNK_TOKENS)
    assert len(chunks) >= 3
    caption = page_caption(CASH_FLOW_PAGE.splitlines())
    assert caption is not None
    for chunk in chunks:
        assert chunk.header == caption == chunk.section
        assert chunk.text.startswith(caption + "\n")
        assert count_tokens([chunk.text])[0] + 2 <= MAX_WORDPIECES  # nothing truncated
    # The page's own words, header removed, are all on the page, and none is lost.
    body = [strip_header(c.text, c.section) for c in chunks]
    assert all(line in CASH_FLOW_PAGE for text in body for line in text.splitlines())
    assert set(CASH_FLOW_PAGE.split()) <= set(" ".join(body).split())
    capex = [c for c in chunks if "Purchases of property" in c.text]
    assert capex and all("(cash flow statement)" in c.text.splitlines()[0] for c in capex)
