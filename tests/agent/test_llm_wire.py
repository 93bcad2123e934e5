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


# -- the reply shapes real servers sent (issue 15) ---------------------------------------------
TEXT_CALLS = {
    "json": '{"name": "get_features", "arguments": {"entities": ["JPM"]}}',
    "hermes": '<tool_call>\n{"name": "get_features", "arguments": {"entities": ["JPM"]}}\n'
    "</tool_call>",
    "functions": 'functions.get_features:\n{"entities": ["JPM"]}',
    "fenced": 'I will look that up.\n```json\n{"name": "get_features", "parameters": '
    '{"entities": ["JPM"]}}\n```',
    "list": '[{"name": "get_features", "arguments": "{\\"entities\\": [\\"JPM\\"]}"}]',
}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("form", sorted(TEXT_CALLS))
def test_tool_calls_written_as_text_become_typed_calls(
    server: srv.ChatServer, stream: bool, form: str
) -> None:
    server.enqueue(srv.text(TEXT_CALLS[form]))
    reply = client(server, stream=stream).complete([{"role": "user", "content": "q"}], TOOLS)
    assert reply.content == "", "a tool call written as text is never an answer"
    (call,) = reply.tool_calls
    assert (call.name, call.arguments, call.error) == ("get_features", {"entities": ["JPM"]}, None)
    assert reply.extra["text_tool_calls"] == TEXT_CALLS[form]


@pytest.mark.parametrize(
    ("text", "name", "error"),
    [
        ("functions.search_documents:", "search_documents", "without arguments"),
        ('{"name": "get_features", "arguments": {"entities": ["JP', "unreadable_tool_call", "JSON"),
        ('<tool_call>{"name": "get_features", "arguments": {</tool_call>', "unreadable_tool_call",
         "JSON"),
    ],
    ids=["functions-stub", "truncated-json", "truncated-hermes"],
)  # fmt: skip
def test_unreadable_text_calls_are_kept_as_errors(
    server: srv.ChatServer, text: str, name: str, error: str
) -> None:
    server.enqueue(srv.text(text))
    reply = client(server, stream=True).complete([{"role": "user", "content": "q"}], TOOLS)
    assert reply.content == ""
    (call,) = reply.tool_calls
    assert call.name == name and call.arguments is None and error in (call.error or "")


def test_unknown_tool_names_in_text_are_kept_for_the_loop_to_refuse(server: srv.ChatServer) -> None:
    server.enqueue(srv.text('{"name": "os.system", "arguments": {"command": "ls"}}'))
    reply = client(server, stream=False).complete([{"role": "user", "content": "q"}], TOOLS)
    assert reply.content == "" and reply.tool_calls[0].name == "os.system"


def test_prose_is_not_read_as_a_tool_call(server: srv.ChatServer) -> None:
    prose = 'JPM\'s 20-day volatility was 31.2% on 2020-03-16 (feature "realized_vol_20d").'
    server.enqueue(srv.text(prose))
    reply = client(server, stream=True).complete([{"role": "user", "content": "q"}], TOOLS)
    assert reply.content == prose and reply.tool_calls == ()


def test_every_request_is_bounded_and_schemas_are_portable(server: srv.ChatServer) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_feature_history",
                "description": "History.",
                "parameters": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "entity": {"type": "string", "pattern": "^\\^?[A-Z][A-Z0-9.\\-]{0,9}$"},
                        "start": {
                            "anyOf": [{"type": "string", "format": "date"}, {"type": "null"}],
                            "default": None,
                        },
                    },
                    "required": ["entity"],
                },
            },
        }
    ]
    server.enqueue(srv.text("ok"), srv.text("ok"))
    model = OpenAICompatibleChatModel("m", base_url=server.base_url, max_tokens=321, stream=True)
    model.complete([{"role": "user", "content": "q"}], tools)
    model.stream = False
    model.complete([{"role": "user", "content": "q"}], tools)
    for request in server.requests:
        body = request["body"]
        assert body["max_tokens"] == 321
        params = body["tools"][0]["function"]["parameters"]
        assert params == {
            "type": "object",
            "properties": {"entity": {"type": "string"}, "start": {"type": "string"}},
            "required": ["entity"],
        }
        assert "pattern" not in json.dumps(body) and "format" not in json.dumps(body)


def test_a_stream_that_fails_after_200_is_asked_again_unstreamed(server: srv.ChatServer) -> None:
    server.enqueue(srv.stream_fails(srv.tools(("get_features", '{"entities": ["JPM"]}'))))
    model = client(server, stream=True)
    reply = model.complete([{"role": "user", "content": "q"}], TOOLS)
    assert reply.tool_calls[0].arguments == {"entities": ["JPM"]}
    assert [r["body"].get("stream") for r in server.requests] == [True, None]
    assert "streaming tool choice is not supported" in reply.extra["warnings"][0]
    assert model.stream is False  # later requests of this client do not stream
    server.enqueue(srv.text("done"))
    model.complete([{"role": "user", "content": "q"}], TOOLS)
    assert server.requests[-1]["body"].get("stream") is None


def test_a_stream_cut_off_before_its_end_is_an_error_not_a_short_reply(
    server: srv.ChatServer,
) -> None:
    server.enqueue(srv.cut_stream("JPM's 20-day realized volatility was 31.2% on 2020-03-16."))
    with pytest.raises(LLMUnavailable, match="before the reply was complete"):
        client(server, stream=True).complete([{"role": "user", "content": "q"}])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_reply_that_never_ends_is_cut_at_the_wall_clock_limit(
    server: srv.ChatServer, stream: bool
) -> None:
    server.enqueue(srv.endless(0.05))
    model = OpenAICompatibleChatModel("m", base_url=server.base_url, timeout_s=1.0, stream=stream)
    pieces: list[str] = []
    with pytest.raises(LLMUnavailable, match="within 1 s|did not answer in time"):
        model.complete([{"role": "user", "content": "q"}], on_text=pieces.append)
    if stream:  # it kept sending words: a per-chunk timeout would never have fired
        assert len(pieces) >= 3


def test_429_then_success_is_retried_with_backoff(server: srv.ChatServer) -> None:
    server.enqueue(srv.rate_limited(0.05), srv.error(500), srv.text("fine"))
    model = OpenAICompatibleChatModel("m", base_url=server.base_url, retries=2, backoff_s=0.01)
    assert model.complete([{"role": "user", "content": "q"}]).content == "fine"
    assert len(server.requests) == 3


def test_retries_are_bounded(server: srv.ChatServer) -> None:
    server.enqueue(srv.error(500), srv.error(502), srv.error(503), srv.text("too late"))
    model = OpenAICompatibleChatModel("m", base_url=server.base_url, retries=2, backoff_s=0.01)
    with pytest.raises(LLMUnavailable, match="HTTP 503"):
        model.complete([{"role": "user", "content": "q"}])
    assert len(server.requests) == 3


def test_client_errors_are_not_retried(server: srv.ChatServer) -> None:
    server.enqueue(srv.error(400, "bad request"), srv.text("never"))
    model = OpenAICompatibleChatModel("m", base_url=server.base_url, retries=2, backoff_s=0.01)
    with pytest.raises(LLMUnavailable, match="HTTP 400"):
        model.complete([{"role": "user", "content": "q"}])
    assert len(server.requests) == 1


def test_context_window_is_read_from_the_server_or_the_setting() -> None:
    with srv.ChatServer(context=4096) as s:
        assert OpenAICompatibleChatModel("m", base_url=s.base_url).context_tokens() == 4096
        assert [r["path"] for r in s.requests] == ["/props"]
        fixed = OpenAICompatibleChatModel("m", base_url=s.base_url, context_tokens=2048)
        assert fixed.context_tokens() == 2048 and len(s.requests) == 1
    with srv.ChatServer() as s:  # a server that does not say
        assert OpenAICompatibleChatModel("m", base_url=s.base_url).context_tokens() is None


def test_response_format_is_sent_and_json_replies_are_not_read_as_calls(
    server: srv.ChatServer,
) -> None:
    plan = '{"name": "get_features", "arguments": {}}'  # a JSON reply asked for under a schema
    server.enqueue(srv.text(plan))
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    reply = client(server, stream=False).complete(
        [{"role": "user", "content": "q"}], response_format=fmt
    )
    assert reply.content == plan and reply.tool_calls == ()
    assert server.requests[0]["body"]["response_format"] == fmt


def test_settings_reach_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import Settings

    settings = Settings(
        llm="openai:m", llm_max_tokens=77, llm_stream=False, llm_retries=5, llm_timeout_s=9
    )
    model = chat_model(settings.llm, settings=settings)
    assert isinstance(model, OpenAICompatibleChatModel)
    assert (model.max_tokens, model.stream, model.retries, model.timeout_s) == (77, False, 5, 9)
    assert model.mode == "tools"


@pytest.mark.parametrize("status", [422, 500])  # llama-cpp-python 0.3.36 answers 500
def test_a_server_that_refuses_json_schema_gets_the_json_object_form(
    server: srv.ChatServer, status: int
) -> None:
    server.enqueue(
        srv.error(status, "response_format.type: Input should be 'text' or 'json_object'")
    )
    server.enqueue(srv.text('{"tickers": ["JPM"]}'), srv.text("{}"))
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    model = client(server, stream=False)
    reply = model.complete([{"role": "user", "content": "q"}], response_format=fmt)
    assert reply.content == '{"tickers": ["JPM"]}'
    sent = [r["body"]["response_format"] for r in server.requests]
    assert sent == [fmt, {"type": "json_object", "schema": {"type": "object"}}]
    model.complete([{"role": "user", "content": "q"}], response_format=fmt)
    assert server.requests[-1]["body"]["response_format"]["type"] == "json_object"
