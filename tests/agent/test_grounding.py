"""Grounding: numbers trace to evidence (rounding, %, bn/mn, signs); citations exist."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.agent import grounding
from app.agent.evidence import Evidence, LoggedCall, now_utc


def evidence_with(result: dict, tool: str = "get_features", args: dict | None = None) -> Evidence:
    ev = Evidence()
    ev.record(LoggedCall(tool, args or {}, result, now_utc(), 1.0))
    return ev


PASSAGE = {
    "chunk_id": "c1",
    "doc_id": "d1",
    "doc_name": "MSFT_10K",
    "title": "t",
    "page_start": 60,
    "page_end": 60,
    "content_sha256": "x",
    "text": "Total assets were $411,976 million at June 30, 2023.",
}


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("volatility was 31.2%", 0.31237),
        ("volatility was 31%", 0.3149),
        ("beta 1.31", 1.3071),
        ("drawdown of 20.5%", -0.2051),  # losses written without their sign
        ("a fall of -20.5%", -0.2051),
        ("total assets USD 411,976 million", 411976.0),
        ("total assets of $412.0bn", 411976.0),  # USD millions shown in billions
        ("total assets of $0.4 trillion", 411976.0),
        ("average dollar volume USD 35.2 million", 35_212_345.0),
        ("spread of 12.5 bps", 0.00125),
        ("spread of 1.05 percentage points", 1.05),
        ("PD 6.8e-25%", 6.8e-27),
        ("value 1,234.57", 1234.5678),
    ],
)
def test_grounded_numbers_pass(text: str, stored: float) -> None:
    report = grounding.check(text, evidence_with({"values": [{"value": stored}]}))
    assert report.ok, report.ungrounded
    assert report.checked >= 1


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("volatility was 31.4%", 0.31237),
        ("beta 1.35", 1.3071),
        ("total assets USD 420,000 million", 411976.0),
        ("total assets of $41.2bn", 411976.0),
        ("PD 7.5e-25%", 6.8e-27),
    ],
)
def test_ungrounded_numbers_fail(text: str, stored: float) -> None:
    report = grounding.check(text, evidence_with({"values": [{"value": stored}]}))
    assert not report.ok
    assert report.ungrounded
    assert "not in any tool output" in report.feedback()


def test_dates_must_come_from_the_evidence() -> None:
    ev = evidence_with({"values": [{"as_of": "2020-03-16", "value": 0.5}]})
    assert grounding.check("as of 2020-03-16 it was 50%", ev).ok
    report = grounding.check("as of 2020-03-17 it was 50%", ev)
    assert report.ungrounded == ["2020-03-17"]


def test_numbers_in_the_question_are_grounded() -> None:
    ev = evidence_with({"values": [{"value": 0.0234}]})
    assert grounding.check("the 97.5% VaR is 2.34%", ev, "What is the 97.5% VaR?").ok


def test_names_and_small_counts_are_not_claims() -> None:
    ev = evidence_with({"values": [{"value": 1.31}]})
    assert grounding.check("AAPL's 252-day beta to the S&P 500 is 1.31 (3 tickers, 10-K)", ev).ok


def test_citations_must_point_at_retrieved_passages_and_cited_numbers_count() -> None:
    ev = evidence_with({"passages": [dict(PASSAGE)]}, tool="search_documents")
    assert grounding.check("Total assets were USD 411,976 million [1].", ev).ok
    report = grounding.check("Total assets were USD 411,976 million [2].", ev)
    assert report.bad_citations == [2]
    # a number that only appears in a passage the answer does not cite is not grounded
    assert not grounding.check("Total assets were USD 411,976 million.", ev).ok


@given(
    value=st.floats(min_value=1e-4, max_value=1e6, allow_nan=False),
    style=st.sampled_from(["pct1", "pct2", "num2", "comma0", "bn1"]),
)
def test_any_value_rendered_from_the_evidence_is_grounded(value: float, style: str) -> None:
    text = {
        "pct1": f"{value * 100:.1f}%",
        "pct2": f"{value * 100:.2f}%",
        "num2": f"{value:.2f}",
        "comma0": f"{value:,.0f}",
        "bn1": f"USD {value / 1e3:.1f}bn",
    }[style]
    assert grounding.check(f"it was {text} then", evidence_with({"v": value})).ok


@given(value=st.floats(min_value=1.0, max_value=1e5, allow_nan=False))
def test_a_value_off_by_more_than_rounding_is_not_grounded(value: float) -> None:
    shown = f"{value * 1.05 + 0.1:.2f}"
    assert not grounding.check(f"it was {shown}", evidence_with({"v": value})).ok
