"""The evidence pack of one answer: a self-contained HTML page a compliance officer can read.

Everything from the record is escaped (answers and documents are untrusted text), the page loads
nothing from anywhere (a Content-Security-Policy forbids it), and it says how to check the hash.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from app.trail.store import StoredRecord

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;border-bottom:1px solid #ccc;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
pre{background:#f6f6f6;padding:.6rem;white-space:pre-wrap;word-break:break-word;font-size:.85rem}
.status{font-weight:bold}.quote{white-space:pre-wrap;border-left:4px solid #999;padding-left:1rem}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _json(value: Any) -> str:
    return f"<pre>{_e(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))}</pre>"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p>none</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _follow_up(item: StoredRecord) -> str:
    r = item.record
    title = f"{r.get('kind')} by {r.get('user')} ({r.get('role')}) at {r.get('time')}"
    parts = [f"<h3>{_e(title)}</h3>", f"<p class='status'>status: {_e(r.get('status'))}</p>"]
    if r.get("note"):
        parts.append(f"<p class='quote'>{_e(r['note'])}</p>")
    if r.get("kind") == "correction":
        parts.append(f"<p>corrected answer:</p><p class='quote'>{_e(r.get('answer'))}</p>")
    parts.append(f"<p>record {_e(item.id)}, position {item.seq}, hash <code>{item.hash}</code></p>")
    return "\n".join(parts)


def render_evidence(stored: StoredRecord, follow_ups: list[StoredRecord]) -> str:
    """The HTML evidence pack of ``stored`` with the reviews/corrections that refer to it."""
    r = stored.record
    versions = r.get("versions") or {}
    tokens = r.get("tokens") or {}
    sections = [
        f"<h1>Answer record {_e(stored.id)}</h1>",
        _table(
            ["asked by", "role", "time (UTC)", "status", "latency", "tokens (prompt/completion)"],
            [
                [
                    r.get("user"),
                    r.get("role"),
                    r.get("time"),
                    r.get("status"),
                    f"{r.get('latency_ms', 0):.0f} ms",
                    f"{tokens.get('prompt', 0)} / {tokens.get('completion', 0)}",
                ]
            ],
        ),
        "<h2>Question</h2>",
        f"<p class='quote'>{_e(r.get('question'))}</p>",
        "<h2>Answer as shown</h2>",
        f"<p class='quote'>{_e(r.get('answer'))}</p>",
    ]
    if r.get("warnings"):
        sections += ["<h2>Warnings</h2>", _table(["warning"], [[w] for w in r["warnings"]])]
    sections += [
        "<h2>Cited passages</h2>",
        _table(
            ["document", "title", "pages", "chunk", "content sha256", "snippet"],
            [
                [
                    c.get("doc_name") or c.get("doc_id"),
                    c.get("title"),
                    f"{c.get('page_start')}–{c.get('page_end')}",
                    c.get("chunk_id"),
                    c.get("content_sha256"),
                    c.get("snippet"),
                ]
                for c in r.get("citations") or []
            ],
        ),
        "<h2>SQL run</h2>",
        _table(["query", "rows"], [[q.get("query"), q.get("rows")] for q in r.get("sql") or []]),
        "<h2>Feature values used</h2>",
        _table(
            ["entity", "feature", "value", "as of", "definition version"],
            [
                [
                    f.get("entity"),
                    f.get("feature"),
                    f.get("value"),
                    f.get("as_of"),
                    f.get("version"),
                ]
                for f in r.get("feature_values") or []
            ],
        ),
        "<h2>Versions</h2>",
        _table(["component", "version"], [[k, v] for k, v in sorted(versions.items())]),
        "<h2>Tool calls</h2>",
    ]
    calls = r.get("tool_calls") or []
    if not calls:
        sections.append("<p>none</p>")
    for i, call in enumerate(calls, 1):
        sections.append(
            f"<h3>{i}. {_e(call.get('tool'))} — started {_e(call.get('started'))}, "
            f"{call.get('ms', 0):.0f} ms</h3>"
        )
        sections.append("<p>arguments</p>" + _json(call.get("args")))
        if call.get("error"):
            sections.append(f"<p>error: {_e(call['error'])}</p>")
        sections.append("<p>result</p>" + _json(call.get("result")))
    if r.get("details"):
        sections += ["<h2>Other details</h2>", _json(r["details"])]
    sections += ["<h2>Reviews and corrections</h2>"]
    sections += [_follow_up(f) for f in follow_ups] or ["<p>none yet</p>"]
    sections += [
        "<h2>Integrity</h2>",
        _table(
            ["position", "appended at (UTC)", "hash", "previous hash"],
            [[stored.seq, stored.appended_at, stored.hash, stored.prev_hash]],
        ),
        "<p>hash = sha256(previous hash as 64 hex characters ‖ canonical JSON of the record with "
        "its <code>seq</code> and <code>appended_at</code>); the record itself is the line "
        "with this id in <code>records.jsonl</code> of this export. "
        "See docs/trail.md for how to recompute it.</p>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>Answer record {_e(stored.id)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )
