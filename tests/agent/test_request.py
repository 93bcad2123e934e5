"""The typed request: what the rule parser reads from a question; the coverage check (no demo)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from app.agent.coverage import check_tool_args, decline_text, uncovered
from app.agent.request import Catalog, QuestionRequest, parse_question, request_json_schema

CATALOG = Catalog(
    tickers=frozenset({"AAPL", "MSFT", "JPM", "XOM", "PFE", "KO", "AMD", "^GSPC", "^IXIC"}),
    portfolios=frozenset({"DEMO"}),
    macro_series=frozenset({"unemp", "baa", "aaa", "wti", "vix", "tbilrate"}),
)


def parse(q: str) -> QuestionRequest:
    return parse_question(q, CATALOG)


def test_the_schema_is_usable_by_an_llm() -> None:
    schema = request_json_schema()
    text = json.dumps(schema)
    assert '"pattern"' not in text  # no regex patterns: small models and some servers choke
    assert {"tickers", "metric", "window", "arithmetic", "ranking"} <= set(schema["properties"])
    # what an LLM returns under the schema validates into the same typed request
    filled = QuestionRequest.model_validate(
        {
            "tickers": ["AAPL"],
            "metric": "max_drawdown",
            "window": {"start": "2020-01-01", "end": "2020-06-30"},
        }  # fmt: skip
    )
    assert filled.window is not None and filled.window.end == date(2020, 6, 30)


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("What was the max drawdown of AAPL from 2020-01-01 to 2020-06-30?", "2020-01-01",
         "2020-06-30"),
        ("Peak-to-trough decline of Microsoft between 2008-01-01 and 2009-03-31", "2008-01-01",
         "2009-03-31"),
        ("Deepest drawdown for XOM over 2015", "2015-01-01", "2015-12-31"),
    ],
)  # fmt: skip
def test_an_explicit_window_is_a_window_not_a_rolling_feature(question, start, end) -> None:  # noqa: ANN001
    req = parse(question)
    assert req.metric == "max_drawdown"
    assert req.window is not None
    assert (str(req.window.start), str(req.window.end)) == (start, end)
    assert {"window", "metric", "entity"} <= {c.kind for c in req.constraints}


@pytest.mark.parametrize(
    ("question", "start", "end", "granularity"),
    [
        ("US unemployment in Q3 2008?", "2008-07-01", "2008-09-30", "quarter"),
        ("What was the unemployment rate in the third quarter of 2007?", "2007-07-01",
         "2007-09-30", "quarter"),
        ("The 3-month T-bill rate in 2006 Q1", "2006-01-01", "2006-03-31", "quarter"),
        ("Where was oil trading in July 2008?", "2008-07-01", "2008-07-31", "month"),
        ("Average BAA yield in 2007", "2007-01-01", "2007-12-31", "year"),
    ],
)  # fmt: skip
def test_named_periods_keep_their_granularity(question, start, end, granularity) -> None:  # noqa: ANN001
    req = parse(question)
    assert req.window is not None, req
    assert (str(req.window.start), str(req.window.end)) == (start, end)
    assert req.window.granularity == granularity
    assert not req.not_understood()  # "3-month" names the T-bill, it is not a window


@pytest.mark.parametrize(
    ("question", "left", "right"),
    [
        ("What was the spread between BAA and AAA yields in December 2008?", "baa", "aaa"),
        ("Difference between the BAA yield and the AAA yield in March 2009", "baa", "aaa"),
        ("What was AMD's current ratio in fiscal 2015?", "current_assets", "current_liabilities"),
        ("KO debt-to-equity in fiscal 2017", "total_liabilities", "total_equity"),
    ],
)  # fmt: skip
def test_arithmetic_between_quantities(question, left, right) -> None:  # noqa: ANN001
    req = parse(question)
    assert req.arithmetic is not None
    assert (req.arithmetic.left, req.arithmetic.right) == (left, right)


def test_rankings_correlations_volumes_and_personal_requests() -> None:
    r = parse("Which stocks had the best return in 2019?")
    assert r.metric == "return" and r.ranking is not None and r.ranking.direction == "highest"
    r = parse("Which three tickers had the highest adjusted close on 2022-12-28?")
    assert r.metric == "price" and r.ranking is not None and r.ranking.count == 3
    r = parse("How correlated were AAPL and MSFT in 2020?")
    assert r.metric == "correlation" and r.tickers == ["AAPL", "MSFT"]
    r = parse("What was the total trading volume of Apple in March 2010?")
    assert r.metric == "volume" and r.aggregation == "sum"
    for q in ("What is the phone number of the CEO of Pfizer?",
              "Give me the email address of JPMorgan's chief executive officer",
              "What is the home address of the CFO of Microsoft?"):  # fmt: skip
        assert parse(q).personal_info, q


@pytest.mark.parametrize(
    "question",
    ["Sharpe ratio of AAPL in 2020", "What is MSFT's dividend yield?", "AAPL's P/E on 2021-06-30",
     "EBITDA of KO in fiscal 2017", "What was AAPL's return year-to-date?"],
)  # fmt: skip
def test_what_the_data_does_not_hold_is_recorded_as_not_understood(question) -> None:  # noqa: ANN001
    req = parse(question)
    missing = uncovered(req, {"entity", "metric", "date", "window", "period", "fiscal_year"})
    assert missing, req
    assert "Not understood or not honoured" in decline_text(missing)


def test_an_unconsumed_constraint_is_named_in_the_decline() -> None:
    req = parse("What was the max drawdown of AAPL from 2020-01-01 to 2020-06-30?")
    # a plan that answered with the stored 252-day feature consumed entity, metric and date only
    missing = uncovered(req, {"entity", "metric", "date"})
    assert {c.kind for c in missing} == {"window", "period"}
    assert "2020-01-01 to 2020-06-30" in decline_text(missing)


def test_tool_arguments_are_held_to_the_question() -> None:
    req = parse("What was the max drawdown of AAPL from 2020-01-01 to 2020-06-30?")
    ok = {"metric": "max_drawdown", "tickers": ["AAPL"], "start": "2020-01-01",
          "end": "2020-06-30"}  # fmt: skip
    assert check_tool_args(req, "price_window", ok) == []
    assert check_tool_args(req, "price_window", {**ok, "tickers": ["MSFT"]})
    assert check_tool_args(req, "price_window", {**ok, "start": "2019-01-01"})
    assert check_tool_args(req, "get_features", {"entities": ["AAPL"],
                                                 "names": ["max_drawdown_252d"]})  # fmt: skip
    day = parse("What was the VIX on 2018-02-05?")
    assert check_tool_args(day, "get_features", {"entities": ["US"], "as_of": "2018-02-06"})


def test_sentences_split_offline_with_filing_abbreviations(monkeypatch: pytest.MonkeyPatch) -> None:
    import nltk

    from app.agent import compose

    def no_download(*_a: object, **_k: object) -> None:
        raise AssertionError("the sentence splitter tried to download data")

    monkeypatch.setattr(nltk, "download", no_download)
    compose._PUNKT.clear()
    text = ("Pfizer Inc. sold Comirnaty in the U.S. and abroad. Revenues were $81.3 billion in "
            "2021. The Company, e.g. through No. 3 plants, grew.")  # fmt: skip
    assert compose.split_sentences(text) == [
        "Pfizer Inc. sold Comirnaty in the U.S. and abroad.",
        "Revenues were $81.3 billion in 2021.",
        "The Company, e.g. through No. 3 plants, grew.",
    ]
    passage = {"text": text}
    # only sentences with the question's key terms are quoted; figures when a figure is asked
    assert compose.best_sentences(passage, ["revenues"], figures=True) == [
        "Revenues were $81.3 billion in 2021."
    ]
    assert compose.best_sentences(passage, ["talc"]) == []


@pytest.mark.parametrize(
    ("question", "op"),
    [
        ("By how many dollars did AAPL's price change from 2010-01-04 to 2011-01-03?", "change"),
        ("How many points did the unemployment rate move from Q1 2001 to Q1 2003?", "change"),
        ("By how many percentage points did the T-bill rate fall from Q2 2007 to Q2 2008?",
         "change"),
        ("By how many basis points did the fed funds rate rise from 2004 to 2006?", "change"),
        ("How much did M1 change, in percent, from Q1 1990 to Q1 1991?", "growth"),
    ],
)  # fmt: skip
def test_an_amount_asked_in_units_is_a_change_not_a_count(question: str, op: str) -> None:
    req = parse(question)
    assert req.aggregation != "count", req
    assert req.arithmetic is not None and req.arithmetic.op == op, req.arithmetic


@pytest.mark.parametrize(
    "question",
    [
        "How many loans are in the book?",
        "How many shares traded in MSFT on 2011-05-16?",
        "How many filings mention liquidity risk?",
    ],
)
def test_how_many_of_a_thing_is_still_a_count(question: str) -> None:
    assert parse(question).aggregation == "count"
