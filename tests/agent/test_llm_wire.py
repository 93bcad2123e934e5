"""The OpenAI-compatible client on the wire, against a real local HTTP server (no mocks).

Covers the quirks DESIGN.md lists: content None, tool_choice="auto", malformed tool-call JSON,
server errors, and streaming (streamed text must equal the non-streamed text).
"""

from __future__ import annotations

import json
import socket

import pytest

from app.llm import LLMUnavailable, chat_model
from app.llm.openai_compat import OpenAICompatibleChatModel
from tests.agent import openai_server as srv

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_features",
            "description": "Feature values.",
            "parameters": {
                "type": "object",
                "properties": {"entities": {"type": "array", "items": {"type": "string"}}},
                "required": ["entities"],
            },
        },
    }
]


@pytest.fixture
def server():  # noqa: ANN201
    with srv.ChatServer() as s:
        yield s


def client(server: srv.ChatServer, *, stream: bool) -> OpenAICompatibleChatModel:
    return OpenAICompatibleChatModel(
        "test-model", base_url=server.base_url, api_key="k", timeout_s=10, stream=stream
    )


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_text_reply_and_streaming_equals_batch(server: srv.ChatServer, stream: bool) -> None:
    answer = "JPM's 20-day realized volatility was 31.2% on 2020-03-16 [1]."
    server.enqueue(srv.text(answer))
    pieces: list[str] = []
    reply = client(server, stream=stream).complete(
        [{"role": "user", "content": "hi"}], on_text=pieces.append
    )
    assert reply.content == answer
    assert "".join(pieces) == answer
    if stream:
        assert len(pieces) > 1, "streamed replies arrive in several deltas"
    assert bool(server.requests[0]["body"].get("stream")) is stream


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_tool_calls_parse_and_tool_choice_auto_is_sent(
    server: srv.ChatServer, stream: bool
) -> None:
    server.enqueue(
        srv.tools(
            ("get_features", '{"entities": ["JPM"], "names": ["realized_vol_20d"]}'),
            ("search_documents", '{"query": "First Republic"}'),
        )
    )
    reply = client(server, stream=stream).complete([{"role": "user", "content": "q"}], TOOLS)
    assert reply.content == ""
    assert [c.name for c in reply.tool_calls] == ["get_features", "search_documents"]
    assert reply.tool_calls[0].arguments == {"entities": ["JPM"], "names": ["realized_vol_20d"]}
    assert reply.tool_calls[1].arguments == {"query": "First Republic"}
    assert all(c.error is None for c in reply.tool_calls)
    body = server.requests[0]["body"]
    assert body["tool_choice"] == "auto"
    assert body["tools"] == TOOLS


def test_no_tool_choice_without_tools(server: srv.ChatServer) -> None:
    server.enqueue(srv.text("ok"))
    client(server, stream=False).complete([{"role": "user", "content": "q"}])
    assert "tool_choice" not in server.requests[0]["body"]


def test_assistant_content_none_is_sent_as_empty_string(server: srv.ChatServer) -> None:
    server.enqueue(srv.text("done"))
    history = [
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_features"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": {"value": 1.5}},
    ]
    client(server, stream=True).complete(history, TOOLS)
    sent = server.requests[0]["body"]["messages"]
    assert sent[1]["content"] == ""
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == "{}"
    assert json.loads(sent[2]["content"]) == {"value": 1.5}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_null_content_in_reply_becomes_empty_text(server: srv.ChatServer, stream: bool) -> None:
    server.enqueue(srv.text(None))
    reply = client(server, stream=stream).complete([{"role": "user", "content": "q"}])
    assert reply.content == "" and reply.tool_calls == ()


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize(
    "raw", ['{"entities": ["JPM"', "not json", '["JPM"]'], ids=["cut", "text", "array"]
)
def test_malformed_tool_arguments_are_kept_with_an_error(
    server: srv.ChatServer, stream: bool, raw: str
) -> None:
    server.enqueue(srv.tools(("get_features", raw)))
    reply = client(server, stream=stream).complete([{"role": "user", "content": "q"}], TOOLS)
    (call,) = reply.tool_calls
    assert call.arguments is None
    assert call.error and "JSON" in call.error
    assert call.raw_arguments == raw


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize(
    "reply",
    [srv.error(500), srv.error(503), srv.error(400, "bad"), srv.garbage()],
    ids=["500", "503", "400", "garbage"],
)
def test_server_errors_become_llm_unavailable(
    server: srv.ChatServer, stream: bool, reply: dict
) -> None:
    server.enqueue(reply)
    with pytest.raises(LLMUnavailable):
        client(server, stream=stream).complete([{"role": "user", "content": "q"}])


def test_connection_refused_becomes_llm_unavailable() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    model = OpenAICompatibleChatModel("m", base_url=f"http://127.0.0.1:{port}/v1", timeout_s=5)
    with pytest.raises(LLMUnavailable):
        model.complete([{"role": "user", "content": "q"}])


def test_registry_builds_the_client_from_the_setting_and_environment(
    server: srv.ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    model = chat_model("openai:qwen2.5")
    assert model is not None and model.name == "openai:qwen2.5"
    server.enqueue(srv.text("hello"))
    assert model.complete([{"role": "user", "content": "q"}]).content == "hello"
    assert server.requests[0]["body"]["model"] == "qwen2.5"
    assert chat_model("offline") is None
