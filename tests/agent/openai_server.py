"""A real local HTTP server that speaks the OpenAI ``/v1/chat/completions`` protocol, for tests.

Replies are queued (text, tool calls, malformed tool calls, HTTP errors, garbage) and served in
order, as one JSON body or as Server-Sent Events when the request asks to stream. Every request
body is kept so tests can check what went over the wire. The shapes real servers were seen to
send are here too: a stream that fails after HTTP 200 (llama.cpp: "Automatic streaming tool choice
is not supported"), a stream cut off before its last chunk, a reply that never ends, 429 with
``Retry-After``; ``context`` makes ``/props`` answer like llama.cpp's server.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def text(content: str | None) -> dict[str, Any]:
    """A final assistant message (content may be None, as some servers send)."""
    return {"kind": "message", "content": content, "tool_calls": []}


def tools(*calls: tuple[str, str]) -> dict[str, Any]:
    """Tool calls given as (name, raw argument text) pairs; the text may be malformed JSON."""
    return {
        "kind": "message",
        "content": None,
        "tool_calls": [
            {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": a}}
            for i, (n, a) in enumerate(calls)
        ],
    }


def error(status: int, message: str = "server error") -> dict[str, Any]:
    """An HTTP error with an OpenAI-style error body."""
    return {"kind": "error", "status": status, "message": message}


def garbage() -> dict[str, Any]:
    """A 200 reply whose body is not JSON."""
    return {"kind": "garbage"}


def rate_limited(retry_after: float = 0.1) -> dict[str, Any]:
    """HTTP 429 with a ``Retry-After`` header (seconds)."""
    return {"kind": "error", "status": 429, "message": "slow down", "retry_after": retry_after}


def stream_fails(
    then: dict[str, Any], message: str = "Automatic streaming tool choice is not supported"
) -> dict[str, Any]:
    """Streamed: HTTP 200, then an error event; unstreamed (a retry), ``then`` is served."""
    return {"kind": "stream_fails", "message": message, "then": then}


def cut_stream(content: str) -> dict[str, Any]:
    """A stream that sends part of ``content`` and closes without a finish_reason or [DONE]."""
    return {"kind": "cut", "content": content}


def endless(every_s: float = 0.05) -> dict[str, Any]:
    """A reply that never ends: a streamed word every ``every_s`` (or a body that never comes)."""
    return {"kind": "endless", "every_s": every_s}


class ChatServer:
    """The server, on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(self, context: int | None = None) -> None:
        self.context = context
        self.replies: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests.append({"path": self.path, "body": None})
                if self.path.rstrip("/") == "/props" and server.context:
                    settings = {"n_ctx": server.context}
                    self._json(200, {"default_generation_settings": settings})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "body": body})
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": "not found"}})
                    return
                reply = server.replies.popleft() if server.replies else error(503, "empty")
                if reply["kind"] == "stream_fails":
                    if not body.get("stream"):
                        reply = reply["then"]
                    else:
                        server.replies.appendleft(reply["then"])
                        self._events([{"error": {"message": reply["message"]}}], done=False)
                        return
                if reply["kind"] == "error":
                    headers = {}
                    if reply.get("retry_after") is not None:
                        headers["Retry-After"] = str(reply["retry_after"])
                    payload = {"error": {"message": reply["message"]}}
                    self._raw(
                        reply["status"], json.dumps(payload).encode(), "application/json", headers
                    )
                elif reply["kind"] == "cut":
                    chunks = _chunks(body, text(reply["content"]))[:-1]  # no finish chunk
                    self._events(chunks[: max(2, len(chunks) // 2)], done=False)
                elif reply["kind"] == "endless":
                    self._endless(body, reply["every_s"])
                elif reply["kind"] == "garbage":
                    self._raw(200, b"this is not json", "application/json")
                elif body.get("stream"):
                    self._stream(body, reply)
                else:
                    self._json(200, _completion(body, reply))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                self._raw(status, json.dumps(payload).encode(), "application/json")

            def _raw(
                self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], reply: dict[str, Any]) -> None:
                self._events(_chunks(body, reply), done=True)

            def _events(self, events: list[dict[str, Any]], *, done: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for event in events:
                    self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                    self.wfile.flush()
                if done:
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                self.close_connection = True

            def _endless(self, body: dict[str, Any], every_s: float) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                word = _chunks(body, text("and "))[1]
                try:
                    while not server.stopping.is_set():
                        if body.get("stream"):
                            self.wfile.write(b"data: " + json.dumps(word).encode() + b"\n\n")
                            self.wfile.flush()
                        server.stopping.wait(every_s)
                except OSError:  # the client hung up: what a bounded client does
                    server.hangups += 1
                self.close_connection = True

        self.stopping = threading.Event()
        self.hangups = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def enqueue(self, *replies: dict[str, Any]) -> ChatServer:
        """Queue replies, served in order."""
        self.replies.extend(replies)
        return self

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _completion(body: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply["content"]}
    if reply["tool_calls"]:
        message["tool_calls"] = reply["tool_calls"]
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "test-model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply["tool_calls"] else "stop",
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def _chunks(body: dict[str, Any], reply: dict[str, Any]) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "test-model"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    out = [chunk({"role": "assistant", "content": ""})]
    content = reply["content"] or ""
    for i in range(0, len(content), 7):  # split mid-word, as real servers do
        out.append(chunk({"content": content[i : i + 7]}))
    for index, call in enumerate(reply["tool_calls"]):
        args = call["function"]["arguments"]
        out.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["function"]["name"], "arguments": ""},
                        }
                    ]
                }
            )
        )
        for i in range(0, len(args), 5):  # arguments arrive in fragments
            part = {"index": index, "function": {"arguments": args[i : i + 5]}}
            out.append(chunk({"tool_calls": [part]}))
    out.append(chunk({}, "tool_calls" if reply["tool_calls"] else "stop"))
    return out
