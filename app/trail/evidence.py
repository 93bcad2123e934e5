"""The evidence pack of one record: a self-contained HTML page a compliance officer can read.

Rendered by Jinja2 from ``templates/evidence.html.j2`` with autoescaping on, so everything from
the record is escaped (answers and documents are untrusted text); the page loads nothing from
anywhere (a Content-Security-Policy forbids it) and says how to check the hash.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jinja2

from app.trail.store import StoredRecord

TITLES = {"prediction": "Prediction record", "digest": "Digest record"}


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("app.trail", "templates"),
        autoescape=True,  # every value is untrusted; only the template's own markup is trusted
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["pretty"] = lambda value: json.dumps(
        value, indent=2, ensure_ascii=False, sort_keys=True
    )
    return env.get_template("evidence.html.j2")


def _rows(record: dict[str, Any], live: bool) -> dict[str, list[list[Any]]]:
    """The record's lists as table rows (the template only lays them out).

    ``live``: the feature values came from a live snapshot and carry its event sequence.
    """
    features = record.get("feature_values") or []
    return {
        "warnings": [[w] for w in record.get("warnings") or []],
        "citations": [
            [
                c.get("doc_name") or c.get("doc_id"),
                c.get("title"),
                f"{c.get('page_start')}–{c.get('page_end')}",
                c.get("chunk_id"),
                c.get("content_sha256"),
                c.get("snippet"),
            ]
            for c in record.get("citations") or []
        ],
        "sql": [[q.get("query"), q.get("rows")] for q in record.get("sql") or []],
        "features": [
            [f.get("entity"), f.get("feature"), f.get("value"), f.get("as_of"), f.get("version")]
            + ([f.get("sequence")] if live else [])
            for f in features
        ],
        "versions": [[k, v] for k, v in sorted((record.get("versions") or {}).items())],
    }


def render_evidence(stored: StoredRecord, follow_ups: list[StoredRecord]) -> str:
    """The HTML evidence pack of ``stored`` with the reviews/corrections that refer to it."""
    r = stored.record
    live = any(f.get("sequence") is not None for f in r.get("feature_values") or [])
    return _template().render(
        title=TITLES.get(str(r.get("kind")), "Answer record"),
        stored=stored,
        r=r,
        tokens=r.get("tokens") or {},
        follow_ups=follow_ups,
        feature_headers=["entity", "feature", "value", "as of", "definition version"]
        + (["event sequence"] if live else []),
        **_rows(r, live),
    )
