"""Query understanding: statements named, finance synonyms, assistant instructions dropped."""

from __future__ import annotations

import pytest

from retrieval.catalogue import query_terms
from retrieval.query import statements_named, understand


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Relying on the cash flow statement, what was capex?", ("cash flow statement",)),
        ("Use the statement of cash flows.", ("cash flow statement",)),
        ("What is net PP&E on the balance sheet?", ("balance sheet",)),
        ("From the statement of financial position, total assets?", ("balance sheet",)),
        ("Per the income statement, what is COGS?", ("income statement",)),
        ("What does the P&L say about restructuring?", ("income statement",)),
        ("Primarily using the statement of operations.", ("income statement",)),
        ("comprehensive income statement", ("statement of comprehensive income",)),
        ("What drove gross margin change in FY2022?", ()),
        ("Which segment grew fastest?", ()),
    ],
)
def test_statements_named(question: str, expected: tuple[str, ...]) -> None:
    assert statements_named(question) == expected


def test_finance_terms_gain_their_filing_vocabulary() -> None:
    plan = understand("What is the FY2018 capex for 3M? Use the cash flow statement.")
    terms = set(query_terms(plan.keyword_text))
    # A cash-flow statement says "Purchases of property, plant and equipment", never "capex".
    assert {"purchases", "property", "plant", "equipment", "capex", "2018", "3m"} <= terms
    assert plan.statements == ("cash flow statement",)
    cogs = set(query_terms(understand("What is the FY2016 COGS for Microsoft?").keyword_text))
    assert {"cost", "sales", "revenue", "cogs"} <= cogs


def test_assistant_instructions_leave_both_query_forms() -> None:
    question = (
        "What is the year end FY2019 total amount of inventories for Best Buy? "
        "Answer in USD millions. Round your answer to two decimal places."
    )
    plan = understand(question)
    assert plan.dense_text == (
        "What is the year end FY2019 total amount of inventories for Best Buy?"
    )
    terms = set(query_terms(plan.keyword_text))
    assert {"inventories", "fy2019", "best", "buy"} <= terms
    assert not {"answer", "round", "decimal", "places"} & terms
    assert plan.text == question


def test_a_question_that_is_all_instruction_is_kept_whole() -> None:
    plan = understand("Answer briefly.")
    assert plan.dense_text == "Answer briefly." and plan.keyword_text


def test_figures_imply_their_statement_unless_the_question_asks_why() -> None:
    assert understand("Is the company capital-intensive?").implied == (
        "cash flow statement",
        "balance sheet",
    )
    assert understand("What is the FY2022 inventory turnover ratio?").implied == (
        "balance sheet",
        "income statement",
    )
    # A named statement wins over implied ones; a question about causes wants the narrative.
    named = understand("What is capex? Use the cash flow statement.")
    assert named.statements == ("cash flow statement",) and named.implied == ()
    assert understand("What drove gross margin change in FY2022?").implied == ()
    assert understand("Which segment had the highest net revenue?").implied == ()


def test_keyword_terms_leave_out_how_a_question_asks() -> None:
    """Form names, single letters and asking words match every page: they are not search terms."""
    from retrieval.catalogue import query_terms

    assert query_terms("What does Pfizer's 10-K say about Comirnaty?") == ["pfizer", "comirnaty"]
    assert query_terms("3M 10-Q for Q2: capex of 5 in FY2018") == [
        "3m",
        "q2",
        "capex",
        "5",
        "fy2018",
    ]
