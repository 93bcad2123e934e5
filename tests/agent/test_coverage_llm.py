"""The coverage check on the LLM path: tool arguments held to the question's parsed constraints."""

from __future__ import annotations

from app.agent import answer
from app.llm.base import Reply
from app.llm.scripted import ScriptedChatModel, tool_call


def _vol(rt, day: str) -> float:  # noqa: ANN001
    from tools.agent_tools import call_tool
    from tools.context import ToolContext

    ctx = ToolContext(warehouse_path=rt.warehouse.path, user="t", groups=("public",))
    try:
        args = {"entities": ["JPM"], "names": ["realized_vol_20d"], "as_of": day}
        return call_tool(ctx, "get_features", args)["values"][0]["value"]
    finally:
        ctx.close()


def test_a_call_for_another_day_or_window_is_flagged(agent_rt) -> None:  # noqa: ANN001
    from app.agent.core import hold_to_question
    from app.agent.evidence import Evidence, LoggedCall, now_utc
    from app.agent.result import Draft
    from app.agent.toolbox import context_for

    ctx = context_for(agent_rt, agent_rt.user("analyst"))
    try:
        for question, tool, args, words in [
            ("What was JPM's 20-day realized volatility on 2020-03-16?", "get_features",
             {"entities": ["JPM"], "names": ["realized_vol_20d"], "as_of": "2020-03-13"},
             "2020-03-16"),
            ("What was the max drawdown of AAPL from 2020-01-01 to 2020-06-30?", "get_features",
             {"entities": ["AAPL"], "names": ["max_drawdown_252d"], "as_of": "2020-06-30"},
             "rolling"),
            ("Total return of PFE over 2021", "price_window",
             {"metric": "return", "tickers": ["MRK"], "start": "2021-01-01", "end": "2021-12-31"},
             "PFE"),
        ]:  # fmt: skip
            ev = Evidence()
            ev.record(LoggedCall(tool, args, {"values": []}, now_utc(), 0.0))
            draft = Draft(text="...", llm="scripted")
            hold_to_question(question, ctx, ev, draft)
            assert draft.details["interpretation"]
            flagged = " ".join(draft.warnings)
            assert "coverage check" in flagged and words in flagged, (question, flagged)
            assert draft.details["coverage"]["mismatches"]
    finally:
        ctx.close()


def test_a_call_matching_the_question_is_not_flagged(agent_rt) -> None:  # noqa: ANN001
    day = "2020-03-16"
    vol = _vol(agent_rt, day)
    args = {"entities": ["JPM"], "names": ["realized_vol_20d"], "as_of": day}
    model = ScriptedChatModel([
        Reply(tool_calls=(tool_call("get_features", args),)),
        f"JPM's 20-day realized volatility was {vol * 100:.1f}% on {day}.",
    ])  # fmt: skip
    result = answer(agent_rt, "What was JPM's 20-day realized volatility on 2020-03-16?",
                    "analyst", llm=model)  # fmt: skip
    assert result.status == "answered", result.answer
    assert not any("coverage check" in w for w in result.warnings)
    assert "coverage" not in agent_rt.trail.get(result.id).record["details"]
