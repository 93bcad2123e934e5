"""Whatever a model sends back, the user sees a checked answer or an honest fallback (issue 15).

Each test replays, through the real ``openai`` client and a real local HTTP server, a reply shape
a real model sent, and checks what ``answer()`` shows and records.
"""

from __future__ import annotations

import json

from app.agent import answer
from app.llm.openai_compat import OpenAICompatibleChatModel
from tests.agent import openai_server as srv
from tests.agent.test_loop import JPM_VOL, jpm_vol

QUESTION = "What was JPM's 20-day realized volatility on 2020-03-16?"


def model(server: srv.ChatServer, **options: object) -> OpenAICompatibleChatModel:
    return OpenAICompatibleChatModel("m", base_url=server.base_url, backoff_s=0.01, **options)  # type: ignore[arg-type]


def chat_requests(server: srv.ChatServer) -> list[dict]:
    return [r["body"] for r in server.requests if r["path"].endswith("/chat/completions")]


def good(rt) -> str:  # noqa: ANN001
    return f"JPM's 20-day realized volatility was {jpm_vol(rt) * 100:.1f}% on 2020-03-16."


def test_a_tool_call_written_as_json_text_runs_the_tool(agent_rt) -> None:  # noqa: ANN001
    call = json.dumps({"name": "get_features", "arguments": JPM_VOL})
    with srv.ChatServer() as server:
        server.enqueue(srv.text(call), srv.text(good(agent_rt)))
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server))
    assert result.status == "answered" and result.answer == good(agent_rt)
    assert [c["tool"] for c in result.tool_calls] == ["get_features"]
    assert "name" not in result.answer
    second = chat_requests(server)[1]["messages"]
    assert second[-2]["tool_calls"][0]["function"]["name"] == "get_features"
    assert second[-1]["role"] == "tool"


def test_os_system_is_refused_logged_and_never_run(agent_rt) -> None:  # noqa: ANN001
    evil = '```json\n{"name": "os.system", "arguments": {"command": "ls"}}\n```'
    with srv.ChatServer() as server:
        server.enqueue(
            srv.text(evil),
            srv.tools(("get_features", json.dumps(JPM_VOL))),
            srv.text(good(agent_rt)),
        )
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server))
    assert result.status == "answered"
    assert "os.system" not in result.answer and "ls" not in result.answer.split()
    assert [c["tool"] for c in result.tool_calls] == ["get_features"]
    assert "rejected a call to unknown tool 'os.system'" in result.warnings
    record = agent_rt.trail.get(result.id).record
    assert record["details"]["rejected_calls"][0]["tool"] == "os.system"
    told = chat_requests(server)[1]["messages"][-1]
    assert told["role"] == "tool" and "unknown tool" in told["content"]


def test_functions_stubs_and_cut_json_are_never_shown(agent_rt) -> None:  # noqa: ANN001
    with srv.ChatServer() as server:
        server.enqueue(
            *[srv.text("functions.get_features:"), srv.text('{"name": "get_features", "argu')] * 6
        )
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server))
    assert result.status == "degraded"
    assert "functions." not in result.answer and "{" not in result.answer
    assert f"{jpm_vol(agent_rt) * 100:.1f}%" in result.answer  # the offline planner's answer
    assert any("step limit" in w for w in result.warnings)


def test_empty_content_gets_one_repair_then_degrades(agent_rt) -> None:  # noqa: ANN001
    with srv.ChatServer() as server:
        server.enqueue(
            srv.tools(("get_features", json.dumps(JPM_VOL))), srv.text(None), srv.text("")
        )
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server))
    assert result.status == "degraded"
    (warning,) = [w for w in result.warnings if "not accepted" in w]
    assert "empty" in warning
    repair = chat_requests(server)[2]["messages"][-1]
    assert repair["role"] == "user" and "empty" in repair["content"]


def test_a_template_refusal_over_data_is_repaired(agent_rt) -> None:  # noqa: ANN001
    with srv.ChatServer() as server:
        server.enqueue(
            srv.tools(("get_features", json.dumps(JPM_VOL))),
            srv.text("I'm sorry, but I can't help with that."),
            srv.text(good(agent_rt)),
        )
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server))
    assert result.status == "answered" and result.answer == good(agent_rt)
    repair = chat_requests(server)[2]["messages"][-1]["content"]
    assert "tools returned data" in repair
    verdicts = agent_rt.trail.get(result.id).record["details"]["acceptance"]
    assert [v["ok"] for v in verdicts] == [False, True]


def test_an_off_topic_answer_is_not_accepted(agent_rt) -> None:  # noqa: ANN001
    with srv.ChatServer() as server:
        server.enqueue(
            srv.tools(("get_features", json.dumps(JPM_VOL))),
            srv.text("The capital of France is Paris."),
            srv.text("Paris is a lovely city."),
        )
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server))
    assert result.status == "degraded" and "Paris" not in result.answer
    assert any("does not mention what was asked" in w for w in result.warnings)


def test_off_topic_questions_and_advice_are_declined_without_a_model_call(agent_rt) -> None:  # noqa: ANN001
    for question in ("What is the capital of France?", "Should I buy AAPL stock now?"):
        with srv.ChatServer() as server:
            server.enqueue(srv.text("The capital of France is Paris."))
            result = answer(agent_rt, question, "analyst", llm=model(server))
        assert result.status == "refused", question
        assert "Paris" not in result.answer
        assert chat_requests(server) == []
        assert result.versions["llm"] == "openai:m"


def test_a_models_decline_without_data_is_a_refusal(agent_rt) -> None:  # noqa: ANN001
    decline = "I can't answer that: ZZZZQ is not a ticker in the data."
    with srv.ChatServer() as server:
        server.enqueue(srv.tools(("get_features", '{"entities": ["ZZZZQ"]}')), srv.text(decline))
        result = answer(
            agent_rt, "What was ZZZZQ's volatility in 2020?", "analyst", llm=model(server)
        )
    assert result.status == "refused" and result.answer == decline
    assert result.versions["llm"] == "openai:m"


def test_only_the_tools_the_question_needs_are_sent(agent_rt) -> None:  # noqa: ANN001
    from app.agent import budget
    from tools.agent_tools import openai_schemas

    with srv.ChatServer() as server:
        server.enqueue(srv.tools(("default_probability", '{"issuer": "KO"}')), srv.text("x"))
        answer(agent_rt, "What is the probability of default of KO?", "analyst", llm=model(server))
    first = chat_requests(server)[0]
    assert [t["function"]["name"] for t in first["tools"]] == ["default_probability"]
    sent = budget.count_tokens(json.dumps(first["tools"]))
    every = budget.count_tokens(json.dumps(openai_schemas()))
    assert sent * 5 < every  # a fifth of the schema tokens or less


def test_the_budget_is_held_inside_the_servers_context(agent_rt) -> None:  # noqa: ANN001
    with srv.ChatServer(context=1536) as server:
        server.enqueue(srv.text("never"))
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server, max_tokens=1024))
    assert result.status == "degraded"
    assert chat_requests(server) == []  # it could not fit: nothing was sent to overflow it
    assert any("does not fit 281 prompt tokens" in w for w in result.warnings)


def test_a_stream_failing_after_200_still_answers(agent_rt) -> None:  # noqa: ANN001
    with srv.ChatServer() as server:
        server.enqueue(
            srv.stream_fails(srv.tools(("get_features", json.dumps(JPM_VOL)))),
            srv.text(good(agent_rt)),
        )
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server, stream=True))
    assert result.status == "answered" and result.answer == good(agent_rt)
    assert any("asked again without streaming" in w for w in result.warnings)
    assert [b.get("stream") for b in chat_requests(server)] == [True, None, None]


def test_a_reply_that_never_ends_degrades_at_the_deadline(agent_rt) -> None:  # noqa: ANN001
    with srv.ChatServer() as server:
        server.enqueue(srv.endless(0.05))
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server, timeout_s=1.0))
    assert result.status == "degraded"
    assert any("did not finish its reply within 1 s" in w for w in result.warnings)
    assert f"{jpm_vol(agent_rt) * 100:.1f}%" in result.answer


def test_degraded_reason_is_in_ask_json_warnings(agent_rt) -> None:  # noqa: ANN001
    with srv.ChatServer() as server:
        server.enqueue(srv.text(""), srv.text(""))
        payload = answer(agent_rt, QUESTION, "analyst", llm=model(server)).to_json()
    assert payload["status"] == "degraded"
    assert any("answered by the offline planner" in w for w in payload["warnings"])


def test_tool_calls_for_another_ticker_are_not_covered(agent_rt) -> None:  # noqa: ANN001
    aapl = {**JPM_VOL, "entities": ["AAPL"]}
    with srv.ChatServer() as server:
        server.enqueue(
            srv.tools(("get_features", json.dumps(aapl))),
            srv.text("AAPL's 20-day realized volatility is in the results."),
            srv.tools(("get_features", json.dumps(JPM_VOL))),
            srv.text(good(agent_rt)),
        )
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server))
    assert result.status == "answered" and result.answer == good(agent_rt)
    repair = chat_requests(server)[2]["messages"][-1]["content"]
    assert "do not fit the question" in repair and "AAPL" in repair and "JPM" in repair


def test_an_answer_from_the_wrong_ticker_degrades(agent_rt) -> None:  # noqa: ANN001
    aapl = {**JPM_VOL, "entities": ["AAPL"]}
    with srv.ChatServer() as server:
        server.enqueue(
            srv.tools(("get_features", json.dumps(aapl))),
            *[srv.text("Here is AAPL's 20-day realized volatility instead.")] * 2,
        )
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server))
    assert result.status == "degraded"
    assert f"{jpm_vol(agent_rt) * 100:.1f}%" in result.answer
    assert any("do not fit the question" in w for w in result.warnings)


def test_declining_an_answerable_question_without_a_tool_call_is_repaired(agent_rt) -> None:  # noqa: ANN001
    """Seen on Qwen2.5-Coder-1.5B: "I can't answer that." to a PD question, no tool called."""
    with srv.ChatServer() as server:
        server.enqueue(
            srv.text("I can't answer that."),
            srv.tools(("get_features", json.dumps(JPM_VOL))),
            srv.text(good(agent_rt)),
        )
        result = answer(agent_rt, QUESTION, "analyst", llm=model(server))
    assert result.status == "answered" and result.answer == good(agent_rt)
    assert "no tool was called" in chat_requests(server)[1]["messages"][-1]["content"]
