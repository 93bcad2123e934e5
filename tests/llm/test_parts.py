"""The LLM path's small parts, without a server: text calls, acceptance rules, economy, budget."""

from __future__ import annotations

import pytest

from app.agent import acceptance, budget
from app.llm.textcalls import looks_like_tool_call, read_text_calls
from tools.agent_tools import TOOLS, openai_schemas


def test_every_tool_named_for_an_intent_exists() -> None:
    named = {t for tools in budget.TOOLS_BY_INTENT.values() if tools for t in tools}
    assert named <= set(TOOLS)
    assert {s["function"]["name"] for s in budget.tools_for("followup", openai_schemas())} == set(
        TOOLS
    )


@pytest.mark.parametrize(
    ("context", "expected"), [(None, 12000), (8192, 5939), (4096, 2457), (1000, 0)]
)
def test_the_budget_stays_inside_the_servers_context(context: int | None, expected: int) -> None:
    assert budget.effective_budget(12000, context, 1024) == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "get_features", "arguments": {}}',
        '```json\n{"tool": "x", "args": {}}\n```',
        "<tool_call>{}</tool_call>",
        "functions.risk_metrics:",
        '{"answer": "JPM"}',
        '[{"ticker": "JPM"}]',
    ],
)
def test_call_shaped_text_is_never_prose(text: str) -> None:
    assert looks_like_tool_call(text)
    assert read_text_calls(text)


@pytest.mark.parametrize(
    "text",
    [
        "JPM's 20-day realized volatility was 31.2% on 2020-03-16 [1].",
        "The VaR {at 99%} was 4.1% of the portfolio.",
        "I can't answer that: ZZZZQ is not a ticker in the data.",
    ],
)
def test_prose_is_not_a_tool_call(text: str) -> None:
    assert not looks_like_tool_call(text) and read_text_calls(text) == ()


@pytest.mark.parametrize(
    ("text", "decline"),
    [
        ("I'm sorry, but I can't help with that.", True),
        ("I cannot provide investment advice.", True),
        ("I could not retrieve JPM's volatility.", True),
        ("No data is available for ZZZZQ.", True),
        ("The 99% 10-day VaR of AAPL as of 2020-03-31 is not available.", True),  # seen: Qwen 1.5B
        ("The VIX on 2018-02-05 was not available.", True),
        ("JPM's volatility was 31.2% on 2020-03-16.", False),
        ("Apple's beta was 1.2, higher than Microsoft's.", False),
    ],
)
def test_declines_are_recognised(text: str, decline: bool) -> None:
    assert acceptance.is_decline(text) is decline


def test_on_topic_needs_a_term_of_the_question() -> None:
    terms = acceptance.topic_terms("How volatile was JPMorgan in March 2020?", ["JPM", "jpmorgan"])
    assert acceptance.on_topic("JPM's volatility rose to 113% in March 2020.", terms)
    assert acceptance.on_topic("JPMorgan Chase was very volatile.", terms)
    assert not acceptance.on_topic("The capital of France is Paris.", terms)
    assert acceptance.on_topic("anything", set())  # nothing to judge by


def test_a_not_available_answer_over_data_is_not_accepted() -> None:
    """Seen on Qwen2.5-Coder-1.5B after risk_metrics returned the VaR: the question's own 99%."""
    from app.agent.evidence import Evidence, LoggedCall, now_utc

    evidence = Evidence()
    evidence.record(LoggedCall("risk_metrics", {"ticker": "AAPL"}, {"var": 0.071}, now_utc(), 1.0))
    question = "What is the 99% 10-day VaR of AAPL as of 2020-03-31?"
    text = "The 99% 10-day VaR of AAPL as of 2020-03-31 is not available."
    verdict = acceptance.check(text, question, evidence, terms={"aapl", "var"})
    assert not verdict.ok and "tools returned data" in verdict.feedback()
