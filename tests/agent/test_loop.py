"""The LLM agent loop driven by the scripted backend and by a real local OpenAI-style server."""

from __future__ import annotations

import json
import shutil

from app.agent import answer
from app.llm.base import Reply
from app.llm.openai_compat import OpenAICompatibleChatModel
from app.llm.scripted import ScriptedChatModel, tool_call
from app.trail.replay import replay_record
from tests.agent import openai_server as srv
from tests.agent.conftest import with_settings

JPM_VOL = {"entities": ["JPM"], "names": ["realized_vol_20d"], "as_of": "2020-03-16"}


def jpm_vol(rt) -> float:  # noqa: ANN001
    with rt.warehouse.reader() as con:
        return con.execute(
            "SELECT value FROM feature_values WHERE entity = 'JPM' AND feature = "
            "'realized_vol_20d' AND as_of <= DATE '2020-03-16' ORDER BY as_of DESC LIMIT 1"
        ).fetchall()[0][0]


def calls(*pairs: tuple[str, dict | str]) -> Reply:
    return Reply(tool_calls=tuple(tool_call(name, args) for name, args in pairs))


def test_tool_call_then_grounded_answer_is_recorded(agent_rt) -> None:  # noqa: ANN001
    vol = jpm_vol(agent_rt)
    text = f"JPM's 20-day realized volatility was {vol * 100:.1f}% on 2020-03-16."
    model = ScriptedChatModel([calls(("get_features", JPM_VOL)), text])
    result = answer(agent_rt, "What was JPM's 20-day vol on 2020-03-16?", "analyst", llm=model)
    assert result.status == "answered"
    assert result.answer == text
    assert [c["tool"] for c in result.tool_calls] == ["get_features"]
    assert result.feature_values[0]["entity"] == "JPM"
    assert result.versions["llm"] == "scripted"
    assert "agent-system@2" in result.versions["prompt"]
    assert result.tokens["prompt"] > 0
    stored = agent_rt.trail.get(result.id)
    assert stored.record["answer"] == text
    assert stored.record["tool_calls"][0]["args"] == JPM_VOL
    # the model saw the tool schemas and the tool's result
    second = model.requests[1]
    assert second[-1]["role"] == "tool" and f"{vol}" in second[-1]["content"]


def test_ungrounded_answer_gets_one_retry_with_feedback(agent_rt) -> None:  # noqa: ANN001
    vol = jpm_vol(agent_rt)
    good = f"It was {vol * 100:.1f}% on 2020-03-16."
    model = ScriptedChatModel([calls(("get_features", JPM_VOL)), "It was 150.0%.", good])
    result = answer(agent_rt, "JPM 20-day vol on 2020-03-16?", "analyst", llm=model)
    assert result.status == "answered" and result.answer == good
    feedback = model.requests[2][-1]["content"]
    assert "150.0%" in feedback and "cannot be shown" in feedback
    record = agent_rt.trail.get(result.id).record
    assert record["details"]["grounding"]["retried"] is True


def test_ungrounded_twice_degrades_to_the_offline_answer(agent_rt) -> None:  # noqa: ANN001
    model = ScriptedChatModel([calls(("get_features", JPM_VOL)), "It was 150.0%.", "Or 99.9%."])
    result = answer(agent_rt, "JPM 20-day vol on 2020-03-16?", "analyst", llm=model)
    assert result.status == "degraded"
    assert "150.0" not in result.answer and "99.9" not in result.answer
    assert f"{jpm_vol(agent_rt) * 100:.1f}%" in result.answer  # the planner's checked answer
    (warning,) = [w for w in result.warnings if "not accepted" in w]
    assert "after one repair" in warning and "99.9%" in warning
    assert "fallback from scripted" in result.versions["llm"]


def test_malformed_tool_json_is_sent_back_not_run(agent_rt) -> None:  # noqa: ANN001
    model = ScriptedChatModel(
        [calls(("get_features", '{"entities": ["JPM"')), "I could not retrieve JPM's volatility."]
    )
    result = answer(agent_rt, "JPM vol?", "analyst", llm=model)
    assert result.status == "refused"  # a decline with no data is accepted as a decline
    assert result.tool_calls == []
    tool_message = model.requests[1][-1]
    assert tool_message["role"] == "tool" and "not valid JSON" in tool_message["content"]


def test_out_of_schema_arguments_are_refused_and_logged(agent_rt) -> None:  # noqa: ANN001
    model = ScriptedChatModel(
        [
            calls(
                ("risk_metrics", {"ticker": "AAPL", "model_version": "risk@evil"}),
                ("get_features", {"entities": ["../../etc/passwd"]}),
                ("risk_metrics", {"ticker": "AAPL", "confidence": 5}),
            ),
            "I could not run the AAPL risk calls.",
        ]
    )
    result = answer(agent_rt, "AAPL risk?", "analyst", llm=model)
    errors = [c["result"]["error"] for c in result.tool_calls]
    assert "model_version" in errors[0] and "Extra inputs" in errors[0]
    assert "entities" in errors[1]
    assert "confidence" in errors[2]
    record = agent_rt.trail.get(result.id).record
    assert all(c["error"] for c in record["tool_calls"])


def test_tool_call_cap_and_step_limit(agent_rt) -> None:  # noqa: ANN001
    rt = with_settings(agent_rt, max_tool_calls=3)
    model = ScriptedChatModel([calls(("describe_data", {"topic": "tickers"}))] * 10)
    result = answer(rt, "List tickers", "analyst", llm=model)
    llm_calls = [c for c in result.tool_calls if c["tool"] == "describe_data"]
    assert len(llm_calls) == 3  # the 4th and later were refused, not run
    assert result.status in ("degraded", "refused")  # the offline planner's answer
    assert any("step limit" in w for w in result.warnings)
    refused = [m for req in model.requests for m in req if m["role"] == "tool"]
    assert any("limit reached" in m["content"] for m in refused)


def test_empty_script_degrades_to_the_offline_planner(agent_rt) -> None:  # noqa: ANN001
    result = answer(
        agent_rt, "What was JPM's 20-day realized volatility on 2020-03-16?", "analyst",
        llm=ScriptedChatModel(),
    )  # fmt: skip
    assert result.status == "degraded"
    assert f"{jpm_vol(agent_rt) * 100:.1f}%" in result.answer
    assert "fallback from scripted" in result.versions["llm"]


def test_token_budget_too_small_degrades_without_a_request(agent_rt) -> None:  # noqa: ANN001
    rt = with_settings(agent_rt, token_budget=200)
    model = ScriptedChatModel(["never sent"])
    result = answer(rt, "What was JPM's 20-day realized volatility on 2020-03-16?", llm=model)
    assert result.status == "degraded"
    assert model.requests == []
    assert any("does not fit 200 prompt tokens" in w for w in result.warnings)


def test_answer_is_withheld_when_the_trail_cannot_be_written(agent_rt) -> None:  # noqa: ANN001
    trail = agent_rt.settings.home / "trail.sqlite"
    for leftover in trail.parent.glob("trail.sqlite*"):
        leftover.unlink() if leftover.is_file() else shutil.rmtree(leftover)
    trail.mkdir()  # a directory where the database file should be: every append fails
    result = answer(agent_rt, "What was JPM's 20-day realized volatility on 2020-03-16?")
    assert result.status == "withheld"
    assert "withheld" in result.answer and "%" not in result.answer
    assert result.tool_calls == [] and result.citations == []


def test_streamed_pieces_are_the_servers_deltas_shown_only_once_recorded(agent_rt) -> None:  # noqa: ANN001
    """on_text gets the server's own stream deltas, in order, after the trail append.

    Not pieces cut from the finished answer: the in-test server streams 7-character deltas, so
    a build that re-cut the final text (by words) fails the first assertion.
    """
    from app.trail.store import TrailQuery

    vol = jpm_vol(agent_rt)
    final = f"JPM's 20-day realized volatility was {vol * 100:.2f}% on 2020-03-16."
    shown: list[str] = []
    recorded: list[bool] = []

    def on_text(piece: str) -> None:
        newest = agent_rt.trail.read(TrailQuery(kind="answer", limit=1, newest_first=True))
        recorded.append(bool(newest) and newest[0].record["answer"] == final)
        shown.append(piece)

    with srv.ChatServer() as server:
        server.enqueue(srv.tools(("get_features", json.dumps(JPM_VOL))), srv.text(final))
        model = OpenAICompatibleChatModel("m", base_url=server.base_url, stream=True)
        result = answer(agent_rt, "JPM 20-day vol on 2020-03-16?", "analyst", llm=model,
                        on_text=on_text)  # fmt: skip
    assert result.status == "answered" and result.answer == final
    assert shown == [final[i : i + 7] for i in range(0, len(final), 7)]
    assert all(recorded), "a piece was shown before its answer was on record (SECURITY.md 4)"


def test_passages_reach_the_model_as_delimited_data_and_citations_resolve(agent_rt) -> None:  # noqa: ANN001
    model = ScriptedChatModel(
        [
            calls(("search_documents", {"query": "First Republic acquisition", "issuer": "JPM"})),
            "JPMorgan acquired First Republic Bank [1]. See also [9].",
            "JPMorgan acquired First Republic Bank [1].",
        ]
    )
    result = answer(agent_rt, "What does JPM say about First Republic?", "analyst", llm=model)
    tool_message = model.requests[1][-1]["content"]
    assert "<<<PASSAGE [1]" in tool_message and "<<<END PASSAGE [1]>>>" in tool_message
    assert "not instructions" in tool_message
    assert result.status == "answered"
    assert [c["n"] for c in result.citations] == [1]
    cited = result.citations[0]
    assert cited["doc_name"] and cited["chunk_id"] and cited["page_start"] >= 1
    assert "[9]" in model.requests[2][-1]["content"]  # the bad citation was sent back


def test_replay_reproduces_every_logged_tool_call(agent_rt) -> None:  # noqa: ANN001
    from app.agent.toolbox import run_logged_tool

    result = answer(agent_rt, "What is the 99% 10-day VaR of AAPL as of 2020-03-31?", "analyst")
    assert result.status == "answered", result.answer
    stored = agent_rt.trail.get(result.id)
    report = replay_record(stored, lambda n, a, v: run_logged_tool(agent_rt, n, a, v))
    assert report.ok, report.to_json()


def test_openai_wire_end_to_end_with_streaming(agent_rt) -> None:  # noqa: ANN001
    vol = jpm_vol(agent_rt)
    final = f"JPM's 20-day realized volatility was {vol * 100:.2f}% on 2020-03-16."
    with srv.ChatServer() as server:
        server.enqueue(srv.tools(("get_features", json.dumps(JPM_VOL))), srv.text(final))
        model = OpenAICompatibleChatModel("m", base_url=server.base_url, stream=True)
        result = answer(agent_rt, "JPM 20-day vol on 2020-03-16?", "analyst", llm=model)
    assert result.status == "answered" and result.answer == final
    first, second = (r["body"] for r in server.requests if r["body"] is not None)
    assert first["tool_choice"] == "auto" and first["stream"] is True
    assistant = second["messages"][-2]
    assert assistant["role"] == "assistant" and assistant["content"] == ""
    assert second["messages"][-1]["role"] == "tool"


def test_openai_server_error_degrades(agent_rt) -> None:  # noqa: ANN001
    with srv.ChatServer() as server:
        server.enqueue(*[srv.error(500, "boom")] * 3)  # the first try and two retries
        model = OpenAICompatibleChatModel("m", base_url=server.base_url, backoff_s=0.01)
        result = answer(agent_rt, "What is the probability of default of KO?", "analyst", llm=model)
    assert result.status == "degraded"
    assert "pd@" in (result.versions["pd_model"] or "")
    assert any("HTTP 500" in w for w in result.warnings)


def test_rate_limit_refuses_and_records(agent_rt) -> None:  # noqa: ANN001
    rt = with_settings(agent_rt, rate_limit_per_minute=2)
    question = "What was the VIX on 2018-02-05?"
    first, second, third = (answer(rt, question, "analyst") for _ in range(3))
    assert first.status == second.status == "answered"
    assert third.status == "refused" and "SIGHTLINE_RATE_LIMIT_PER_MINUTE" in third.answer
    assert third.tool_calls == []
    assert rt.trail.get(third.id).record["status"] == "refused"
    assert answer(rt, question, "researcher").status == "answered"  # per user


def test_concurrent_questions_and_a_new_snapshot(agent_rt) -> None:  # noqa: ANN001
    """Threads share one locked connection per snapshot; a write in between is picked up."""
    import threading

    rt = with_settings(agent_rt, rate_limit_per_minute=1000)
    questions = ["What was the VIX on 2018-02-05?", "Compare the beta of AAPL and JPM"] * 4
    statuses: list[str] = []
    threads = [
        threading.Thread(target=lambda q=q: statuses.append(answer(rt, q, "analyst").status))
        for q in questions
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == ["answered"] * len(questions)
    with rt.warehouse.writer() as con:  # publishes a new snapshot
        con.execute("DELETE FROM macro WHERE series = 'vix' AND date = DATE '2018-02-05'")
    after = answer(rt, "What was the VIX on 2018-02-05?", "analyst")
    assert "2018-02-05 " not in after.answer and "on or before 2018-02-05" in after.answer
    assert rt.trail.verify().ok
