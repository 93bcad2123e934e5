"""Plan mode: one typed request under a JSON schema, computed by our code, prose checked."""

from __future__ import annotations

import json

from app.agent import answer
from app.agent.llm_plan import plan_response_format
from app.llm.openai_compat import OpenAICompatibleChatModel
from app.llm.scripted import ScriptedChatModel
from tests.agent import openai_server as srv
from tests.agent.test_loop import jpm_vol

QUESTION = "What was JPM's 20-day realized volatility on 2020-03-16?"
PLAN = {"tickers": ["JPM"], "features": ["realized_vol_20d"], "as_of": "2020-03-16"}


def prose(rt) -> str:  # noqa: ANN001
    vol = jpm_vol(rt) * 100
    return f"JPMorgan (JPM) had a 20-day realized volatility of {vol:.1f}% on 2020-03-16."


def test_the_plan_schema_is_portable_and_has_no_free_text_fields() -> None:
    schema = plan_response_format()["json_schema"]["schema"]
    text = json.dumps(schema)
    assert "pattern" not in text and "$ref" not in text and '"format"' not in text
    assert "constraints" not in schema["properties"] and "question" not in schema["properties"]
    assert schema["properties"]["metric"]["enum"][:2] == ["price", "return"]


def test_plan_then_prose_is_answered_with_computed_figures(agent_rt) -> None:  # noqa: ANN001
    with srv.ChatServer() as server:
        server.enqueue(srv.text(json.dumps(PLAN)), srv.text(prose(agent_rt)))
        model = OpenAICompatibleChatModel("m", base_url=server.base_url, mode="plan")
        result = answer(agent_rt, QUESTION, "analyst", llm=model)
    assert result.status == "answered" and result.answer == prose(agent_rt)
    assert [c["tool"] for c in result.tool_calls] == ["get_features"]  # run by our code
    first, second = (r["body"] for r in server.requests if r["body"] is not None)
    assert first["response_format"]["type"] == "json_schema" and "tools" not in first
    assert "Computed answer" in second["messages"][-1]["content"]
    assert "agent-plan@1" in result.versions["prompt"]
    record = agent_rt.trail.get(result.id).record
    assert record["details"]["plan"]["request"]["tickers"] == ["JPM"]


def test_a_plan_for_another_ticker_or_day_gets_one_repair_then_degrades(agent_rt) -> None:  # noqa: ANN001
    wrong = {"tickers": ["AAPL"], "as_of": "2020-03-17"}
    model = ScriptedChatModel([json.dumps(wrong), json.dumps(wrong)], mode="plan")
    result = answer(agent_rt, QUESTION, "analyst", llm=model)
    assert result.status == "degraded"
    assert f"{jpm_vol(agent_rt) * 100:.1f}%" in result.answer
    (warning,) = [w for w in result.warnings if "plan was not accepted" in w]
    assert "['AAPL'] but the question names ['JPM']" in warning and "2020-03-16" in warning
    assert "cannot be run" in model.requests[1][-1]["content"]
    assert model.formats[0]["type"] == "json_schema"


def test_a_plan_that_is_not_json_degrades(agent_rt) -> None:  # noqa: ANN001
    model = ScriptedChatModel(["JPM vol please", '{"tickers": ["JPM"'], mode="plan")
    result = answer(agent_rt, QUESTION, "analyst", llm=model)
    assert result.status == "degraded" and "not one JSON object" in " ".join(result.warnings)


def test_prose_with_an_invented_number_falls_back_to_the_computed_text(agent_rt) -> None:  # noqa: ANN001
    bad = "JPM's 20-day realized volatility was 150.0% on 2020-03-16."
    model = ScriptedChatModel([json.dumps(PLAN), bad, "JPM was very volatile."], mode="plan")
    result = answer(agent_rt, QUESTION, "analyst", llm=model)
    assert result.status == "degraded"
    assert "150.0" not in result.answer and f"{jpm_vol(agent_rt) * 100:.1f}%" in result.answer
    assert "offline (fallback from scripted)" == result.versions["llm"]
    assert [c["tool"] for c in result.tool_calls] == ["get_features"]  # computed once


def test_plan_mode_declines_like_the_planner_without_a_model_call(agent_rt) -> None:  # noqa: ANN001
    model = ScriptedChatModel(["never"], mode="plan")
    result = answer(agent_rt, "Should I buy AAPL stock now?", "analyst", llm=model)
    assert result.status == "refused" and model.requests == []


def test_settings_choose_plan_mode(agent_rt) -> None:  # noqa: ANN001
    from app.llm import chat_model
    from app.settings import Settings

    model = chat_model("openai:m", settings=Settings(llm="openai:m", llm_mode="plan"))
    assert getattr(model, "mode", None) == "plan"
