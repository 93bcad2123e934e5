"""Ranking helpers: the statement boost and one hit per page."""

from __future__ import annotations

from retrieval.fusion import best_per_page, statement_boost


def test_statement_boost_needs_the_page_to_hold_the_named_statement() -> None:
    section = (
        "3M Company and Subsidiaries · Consolidated Statement of Cash Flows (cash flow statement)"
    )
    assert statement_boost(section, ("cash flow statement",), 1.0) == 2.0
    assert statement_boost(section, ("balance sheet",), 1.0) == 1.0
    assert statement_boost(section, ("cash flow statement",), 0.0) == 1.0
    assert statement_boost(None, ("cash flow statement",), 1.0) == 1.0
    # A caption that merely mentions cash flows is not the statement.
    assert statement_boost("Cash flows from operations", ("cash flow statement",), 1.0) == 1.0


def test_best_per_page_keeps_each_page_once_in_order() -> None:
    scored = [(0.9, "a1"), (0.8, "a2"), (0.7, "b1"), (0.5, "c1"), (0.4, "b2")]
    page_of = {"a1": ("d", 1), "a2": ("d", 1), "b1": ("d", 2), "b2": ("d", 2), "c1": ("e", 2)}
    assert best_per_page(scored, page_of) == [(0.9, "a1"), (0.7, "b1"), (0.5, "c1")]
    # With spread, a page whose other chunks also match gains on a page that matches once.
    spread = best_per_page(scored, page_of, spread=0.5)
    assert [cid for _, cid in spread] == ["a1", "b1", "c1"]
    assert spread[1][0] == 0.7 + 0.5 * 0.4
    tied = best_per_page(
        [(0.6, "x"), (0.55, "y"), (0.5, "y2")],
        {"x": ("d", 1), "y": ("d", 2), "y2": ("d", 2)},
        spread=1.0,
    )
    assert [cid for _, cid in tied] == ["y", "x"]


def test_document_prior_knows_tickers_and_short_names() -> None:
    from retrieval.fusion import document_prior

    docs = [
        {"doc_id": name, "doc_name": name, "title": title, "issuer": issuer, "doc_type": "10k"}
        for name, title, issuer in (
            ("JPMORGAN_2022Q2_10Q", "JPMorgan 10Q 2022", "JPM"),
            ("JOHNSON_JOHNSON_2022_10K", "Johnson & Johnson 10K 2022", "JNJ"),
            ("PEPSICO_2022_10K", "PepsiCo 10K 2022", "PEP"),
        )
    ]
    for question, expected in (
        ("What drove gross margin change as of FY2022 for JnJ?", "JOHNSON_JOHNSON_2022_10K"),
        ("In 2022 Q2, which of JPMorgan's segments earned most?", "JPMORGAN_2022Q2_10Q"),
        ("What restructuring costs did Pepsi report in FY2022?", "PEPSICO_2022_10K"),
    ):
        prior = document_prior(question, docs)
        assert max(prior, key=prior.__getitem__) == expected
        assert sorted(prior.values())[-2] < 0.5  # the year alone does not tie the others
