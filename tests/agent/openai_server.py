"""A real local HTTP server that speaks the OpenAI ``/v1/chat/completions`` protocol, for tests.

Replies are queued (text, tool calls, malformed tool calls, HTTP errors, garbage) and served in
order, as one JSON body or as Server-Sent Events when the request asks to stream. Every request
body is kept so tests can check what went over the wire.
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


class ChatServer:
    """The server, on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(self) -> None:
        self.replies: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "body": body})
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": "not found"}})
                    return
                reply = server.replies.popleft() if server.replies else error(503, "empty")
                if reply["kind"] == "error":
                    self._json(reply["status"], {"error": {"message": reply["message"]}})
                elif reply["kind"] == "garbage":
                    self._raw(200, b"this is not json", "application/json")
                elif body.get("stream"):
                    self._stream(body, reply)
                else:
                    self._json(200, _completion(body, reply))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                self._raw(status, json.dumps(payload).encode(), "application/json")

            def _raw(self, status: int, data: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], reply: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in _chunks(body, reply):
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
