"""The analyst generalization scorer on small fixture answers, and the set's shape and rules."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from evals.gold import analyst_score, analyst_set
from evals.gold.analyst_reference import COMPUTED, LOOKUP, decline, number
from evals.harness.metrics import lower_is_better
from evals.harness.suite_analyst import split_metrics


def _item(gold: dict[str, Any], split: str = "dev", family: str = "windows") -> dict[str, Any]:
    return {
        "id": f"t-{split}-{family}",
        "split": split,
        "family": family,
        "question": "What was KO's realized volatility in 2011?",
        "user": "analyst",
        "spec": {"kind": "window_vol", "ticker": "KO"},
        "gold": gold,
    }


def _record(status: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "answer": text, "citations": [], "tool_calls": [], **extra}


VOL = number(0.3124, COMPUTED, alternatives=[(0.3301, "return into day 1 included")])
NO = decline("after the data")


def _outcome(gold: dict[str, Any], record: dict[str, Any], *, llm_run: bool = False) -> str:
    return str(analyst_score.score(_item(gold), record, llm_run=llm_run)["outcome"])


def test_a_right_number_in_any_printed_form_is_right() -> None:
    for text in (
        "KO's realized volatility over 2011 was 31.2% (annualized).",
        "Realized vol: 0.3124",
        "Annualised volatility 31.24 percent.",
        "With the return into the first day included it is 33.0%.",  # an accepted convention
    ):
        assert _outcome(VOL, _record("answered", text)) == "right", text


def test_a_wrong_number_is_a_wrong_answer() -> None:
    for text in (
        "KO's 20-day realized volatility on 2011-12-30 was 18.4%.",  # another window's figure
        "Realized volatility in 2011: about 0.4",  # coarse, and not the gold figure rounded
        "Coca-Cola closed 2011 at 69.97.",  # answered something else
        "",
    ):
        assert _outcome(VOL, _record("answered", text)) == "wrong_answer", text
    # A flagged answer is still shown to the analyst: scored like an answered one.
    assert _outcome(VOL, _record("flagged", "Volatility 25.0%")) == "wrong_answer"


def test_the_gold_figure_rounded_to_the_printed_precision_is_right() -> None:
    tiny = number(1.2356e-05, {"rel": 0.02, "abs": 0.0})
    assert _outcome(tiny, _record("answered", "Amihud illiquidity 0.000012")) == "right"
    small = number(0.004, LOOKUP)
    assert _outcome(small, _record("answered", "The return was 0%.")) == "wrong_answer"


def test_dates_and_window_lengths_are_not_figures() -> None:
    gold = number(20.0, LOOKUP)
    text = "The 20-day window ending 2020-03-20 gave 18.7."
    assert _outcome(gold, _record("answered", text)) == "wrong_answer"
    gold_year = number(2011.0, LOOKUP)
    assert _outcome(gold_year, _record("answered", "In 2011 nothing was reported.")) == (
        "wrong_answer"
    )


def test_a_right_decline_is_right_and_an_answer_to_a_decline_is_wrong() -> None:
    assert _outcome(NO, _record("refused", "The data ends on 2022-12-28.")) == "right"
    assert _outcome(NO, _record("answered", "Apple closed at 129.93.")) == "wrong_answer"


def test_declining_an_answerable_question_is_an_honest_miss() -> None:
    assert _outcome(VOL, _record("refused", "I cannot compute that window.")) == "miss"
    assert _outcome(VOL, _record("withheld", "")) == "error"


def test_degraded_counts_apart_on_llm_runs_and_as_an_answer_offline() -> None:
    record = _record("degraded", "Realized volatility 31.2%.")
    case = analyst_score.score(_item(VOL), record, llm_run=True)
    assert case["outcome"] == "degraded" and case["fallback_right"] is True
    assert not case["passed"]
    wrong = analyst_score.score(_item(VOL), _record("degraded", "12.0%"), llm_run=True)
    assert wrong["outcome"] == "degraded" and wrong["fallback_right"] is False
    assert _outcome(VOL, record, llm_run=False) == "right"


def test_magnitude_figures_accept_either_sign() -> None:
    drawdown = number(-0.3567, COMPUTED, magnitude=True)
    assert _outcome(drawdown, _record("answered", "Max drawdown: 35.7%")) == "right"
    assert _outcome(drawdown, _record("answered", "Max drawdown: -35.67%")) == "right"
    assert _outcome(drawdown, _record("answered", "Max drawdown: -25.1%")) == "wrong_answer"


def test_scientific_notation_is_read() -> None:
    gold = number(1.2e-05, {"rel": 0.02, "abs": 0.0})
    assert _outcome(gold, _record("answered", "Amihud illiquidity 1.2e-05")) == "right"
    assert _outcome(gold, _record("answered", "Amihud illiquidity 3.1e-05")) == "wrong_answer"


def test_rankings_score_the_first_tickers_named() -> None:
    gold = {"answer": "tickers", "tickers": ["LLY", "AAPL"]}
    right = "Top 2 by return in 1997: Eli Lilly (+61%), then Apple. Worst: GE."
    assert _outcome(gold, _record("answered", right)) == "right"
    wrong = "Top 2 by return in 1997: MSFT (+56%), then LLY (+61%)."
    assert _outcome(gold, _record("answered", wrong)) == "wrong_answer"
    item = {**_item(gold), "spec": {"kind": "ranking", "barred": ["BBY"]}}
    noted = _record("answered", "BBY is left out (restricted). Best: LLY, then AAPL.")
    assert analyst_score.score(item, noted, llm_run=False)["outcome"] == "right"


def test_interpretation_is_read_from_the_field_or_the_line() -> None:
    line = _record("answered", "Interpreted as: KO, realized vol, 2011-01-01..2011-12-31\n31.2%")
    field = _record("answered", "31.2%", interpretation="KO realized volatility over 2011")
    none = _record("answered", "31.2%")
    later = _record("answered", "31.2%\n\nInterpreted as: KO, 2011")
    assert analyst_score.interpretation_of(later) == "KO, 2011"
    assert analyst_score.interpretation_of(line).startswith("KO, realized vol")
    assert analyst_score.interpretation_of(field) == "KO realized volatility over 2011"
    assert analyst_score.interpretation_of(none) == ""
    assert analyst_score.names_entities({"ticker": "KO"}, "KO realized vol over 2011") is True
    assert analyst_score.names_entities({"ticker": "KO", "other": "PEP"}, "KO vol") is False
    assert analyst_score.names_entities({"kind": "loans_stat"}, "default rate") is None


def _case(split: str, gold: dict[str, Any], record: dict[str, Any], llm: bool = False) -> Any:
    case = analyst_score.score(_item(gold, split), record, llm_run=llm)
    case["seconds"] = 2.0
    return case


def test_both_splits_are_reported_with_wrong_answers_and_interpretation() -> None:
    interp = {"interpretation": "KO vol 2011"}
    cases = [
        _case("dev", VOL, _record("answered", "31.2%", **interp)),
        _case("dev", VOL, _record("answered", "18.0%")),
        _case("dev", NO, _record("refused", "Outside the data.")),
        _case("locked", VOL, _record("refused", "Not understood.")),
        _case("locked", NO, _record("refused", "No.")),
    ]
    metrics, charts = split_metrics(cases, ("dev", "locked"), llm_run=False)
    assert metrics["dev_questions"] == 3 and metrics["locked_questions"] == 2
    assert metrics["dev_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["dev_wrong_answer_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert metrics["dev_interpretation_coverage"] == 0.5  # of the 2 answers shown
    assert metrics["locked_accuracy"] == 0.5 and metrics["locked_wrong_answers"] == 0
    assert metrics["locked_miss_rate"] == 0.5
    assert metrics["locked_interpretation_coverage"] is None  # nothing shown
    assert metrics["dev_interpretation_entity_rate"] == 1.0  # "KO vol 2011" names KO
    assert metrics["wrong_answers"] == 1 and metrics["accuracy"] == 0.6
    assert "degraded_rate" not in metrics
    assert set(charts["splits"]) == {"dev", "locked"}
    assert charts["per_intent"] == {"dev:windows": pytest.approx(0.6667), "locked:windows": 0.5}


def test_an_llm_run_reports_degraded_tokens_and_seconds() -> None:
    tokens = {"tokens": {"prompt": 3000, "completion": 120}}
    cases = [
        _case("locked", VOL, _record("answered", "31.2%", **tokens), llm=True),
        _case("locked", VOL, _record("degraded", "31.2%", **tokens), llm=True),
        _case(
            "locked",
            NO,
            _record("refused", "No.", tokens={"prompt": 1000, "completion": 20}),
            llm=True,
        ),  # fmt: skip
    ]
    metrics, _ = split_metrics(cases, ("locked",), llm_run=True)
    assert metrics["locked_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["locked_degraded_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert metrics["degraded_rate"] == metrics["locked_degraded_rate"]
    assert metrics["locked_fallback_accuracy"] == 1.0
    assert metrics["locked_mean_prompt_tokens"] == pytest.approx(7000 / 3, abs=0.1)
    assert metrics["locked_mean_completion_tokens"] == pytest.approx(260 / 3, abs=0.1)
    assert metrics["locked_seconds_per_question"] == 2.0


def test_wrong_answers_and_misses_are_lower_is_better_in_comparisons() -> None:
    for name in ("wrong_answer_rate", "locked_wrong_answer_rate", "dev_miss_rate",
                 "locked_degraded_rate", "wrong_answers", "dev_seconds_per_question"):  # fmt: skip
        assert lower_is_better(name), name
    assert not lower_is_better("locked_accuracy")


def test_the_set_has_both_splits_every_family_and_unique_questions() -> None:
    items = analyst_set.load()
    splits = Counter(i["split"] for i in items)
    assert len(items) >= 300 and splits["locked"] >= 100 and splits["dev"] >= 100
    assert {(i["split"], i["family"]) for i in items} == {
        (s, f) for s in ("dev", "locked") for f in analyst_set.FAMILIES
    }
    assert len({i["id"] for i in items}) == len(items)
    assert len({(i["user"], i["question"].lower()) for i in items}) == len(items)
    private = [i for i in items if i["user"] == "analyst_private"]
    assert len(private) == 4 and all(i["gold"]["answer"] == "number" for i in private)
    declines = [i for i in items if i["gold"]["answer"] == "decline"]
    assert {i["gold"]["reason"] for i in declines} >= {
        "after the data", "unknown ticker", "personal information", "investment advice",
        "restricted",
    }  # fmt: skip
    for split, path in analyst_set.FILES.items():
        header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
        assert analyst_set.HEADER_KEY in header, path
        assert ("LOCKED" in header[analyst_set.HEADER_KEY]) == (split == "locked")


def test_the_locked_split_is_not_read_by_the_planner_or_its_tests() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readers = [
        p
        for folder in ("app", "tools", "tests/agent")
        for p in (root / folder).rglob("*.py")
        if "locked.jsonl" in p.read_text(encoding="utf-8", errors="ignore")
    ]
    assert readers == []


def test_the_report_shows_outcomes_tokens_and_seconds_per_split() -> None:
    from evals.harness.model import Run, SuiteResult
    from evals.harness.report import render_report

    tokens = {"tokens": {"prompt": 2900, "completion": 80}}
    cases = [
        _case("dev", VOL, _record("degraded", "31.2%", **tokens), llm=True),
        _case(
            "locked", NO, _record("answered", "<b>Apple</b> closed at 129.93.", **tokens), llm=True
        ),  # fmt: skip
    ]
    metrics, charts = split_metrics(cases, ("dev", "locked"), llm_run=True)
    result = SuiteResult(metrics=metrics, cases=cases, charts=charts)
    run = Run("r1", "t0", "t1", "openai:m", "m", "/home", {"code": "abc"}, {"analyst": result})
    html = render_report(run)
    assert "Outcomes per split" in html
    for column in ("wrong_answer_rate", "degraded_rate", "mean_prompt_tokens",
                   "mean_completion_tokens", "seconds_per_question"):  # fmt: skip
        assert f"<th>{column}</th>" in html, column
    assert html.count("<td>2900</td>") >= 2  # mean prompt tokens of each split
    assert "<b>Apple" not in html  # answers under test are escaped
    assert metrics["locked_wrong_answers"] == 1 and metrics["dev_degraded_rate"] == 1.0
