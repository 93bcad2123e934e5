"""The self-contained HTML report of one run: summary, gate, charts and the failed cases.

Everything is inline (CSS and SVG; no scripts, fonts or images from elsewhere) so the file can be
archived with the run and opened offline. Every value from a run is HTML-escaped: answers under
test may contain hostile markup.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from evals.harness.charts import bar_chart, histogram, line_chart
from evals.harness.model import Run, SuiteResult

CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#111827;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb}
h3{font-size:14px;margin:14px 0 6px}.meta{color:#4b5563;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
td,th{border:1px solid #e5e7eb;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f4f6}.ok{color:#15803d;font-weight:bold}.bad{color:#b91c1c;font-weight:bold}
.muted{color:#6b7280}.charts{display:flex;flex-wrap:wrap;gap:12px}
.charts svg{border:1px solid #e5e7eb;background:#fff}
pre{white-space:pre-wrap;font-size:12px;margin:0;max-width:520px}
"""

CASE_ROWS = 150


def render_report(run: Run) -> str:
    """The whole report as one HTML string."""
    body = [
        f"<h1>Sightline eval run {escape(run.run_id)}</h1>",
        f'<div class="meta">model <b>{escape(run.model)}</b> (backend {escape(run.llm)}) · '
        f"started {escape(run.started)} · finished {escape(run.finished)} · data dir "
        f"{escape(run.home)} · code {escape(str(run.versions.get('code', '?')))}</div>",
        _gate(run.gate),
        "<h2>Summary</h2>",
        _summary(run),
    ]
    for name, result in run.suites.items():
        body.append(_suite(name, result))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Sightline eval {escape(run.run_id)}</title><style>{CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )


def _gate(gate: dict[str, Any] | None) -> str:
    if gate is None:
        return ""
    if gate["passed"]:
        head = f'<p class="ok">Gate passed ({gate["checked"]} thresholds checked)</p>'
    else:
        head = f'<p class="bad">Gate FAILED: {len(gate["failures"])} threshold(s) missed</p>'
    rows = "".join(
        f"<tr><td>{escape(f['suite'])}</td><td>{escape(f['metric'])}</td>"
        f"<td>{escape(str(f['value']))}</td><td>{escape(f['rule'])} {escape(str(f['bound']))}"
        "</td></tr>"
        for f in gate["failures"]
    )
    table = (
        f"<table><tr><th>suite</th><th>metric</th><th>value</th><th>threshold</th></tr>{rows}"
        "</table>"
        if rows
        else ""
    )
    unchecked = "".join(
        f'<li class="muted">{escape(u["suite"])}: not checked ({escape(u["status"])}: '
        f"{escape(u['why'])})</li>"
        for u in gate["unchecked"]
    )
    return head + table + (f"<ul>{unchecked}</ul>" if unchecked else "")


def _summary(run: Run) -> str:
    rows = []
    for name, r in run.suites.items():
        cls = "ok" if r.status == "ok" else ("bad" if r.status == "error" else "muted")
        metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in r.metrics.items())
        rows.append(
            f'<tr><td><a href="#suite-{escape(name)}">{escape(name)}</a></td>'
            f'<td class="{cls}">{escape(r.status)}</td><td>{r.seconds:.1f}s</td>'
            f"<td>{escape(r.message)}</td><td>{escape(metrics)}</td></tr>"
        )
    return (
        "<table><tr><th>suite</th><th>status</th><th>time</th><th>note</th><th>metrics</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _suite(name: str, r: SuiteResult) -> str:
    parts = [f'<h2 id="suite-{escape(name)}">{escape(name)}</h2>']
    if r.status != "ok":
        parts.append(f'<p class="muted">{escape(r.status)}: {escape(r.message)}</p>')
    if r.metrics:
        parts.append(
            "<table><tr><th>metric</th><th>value</th></tr>"
            + "".join(
                f"<tr><td>{escape(k)}</td><td>{escape(_fmt(v))}</td></tr>"
                for k, v in r.metrics.items()
            )
            + "</table>"
        )
    charts = []
    c = r.charts
    if c.get("per_intent"):
        charts.append(bar_chart(c["per_intent"], title="accuracy per intent", max_value=1.0))
    if c.get("recall_at_k"):
        charts.append(line_chart(c["recall_at_k"], title="page recall@k"))
    if "latency_ms" in c:
        charts.append(histogram(c["latency_ms"], title="latency per answer", unit="ms"))
    if "tokens" in c:
        charts.append(histogram(c["tokens"], title="LLM tokens per answer", unit="tokens"))
    if "cost_usd" in c:
        charts.append(histogram(c["cost_usd"], title="cost per answer", unit="USD"))
    if charts:
        parts.append(f'<div class="charts">{"".join(charts)}</div>')
    if c.get("splits"):
        parts.append(_splits(c["splits"]))
    if r.cases:
        parts.append(_cases(r.cases))
    return "".join(parts)


SPLIT_COLUMNS = (
    "questions",
    "accuracy",
    "wrong_answer_rate",
    "miss_rate",
    "degraded_rate",
    "error_rate",
    "decline_accuracy",
    "interpretation_coverage",
    "interpretation_entity_rate",
    "fallback_accuracy",
    "mean_prompt_tokens",
    "mean_completion_tokens",
    "seconds_per_question",
)


def _splits(splits: dict[str, dict[str, Any]]) -> str:
    """One row per split of the analyst generalization set (dev, locked)."""
    head = "".join(f"<th>{escape(k)}</th>" for k in ("split", *SPLIT_COLUMNS))
    rows = "".join(
        f"<tr><td>{escape(name)}</td>"
        + "".join(f"<td>{escape(_fmt(m.get(k)))}</td>" for k in SPLIT_COLUMNS)
        + "</tr>"
        for name, m in splits.items()
    )
    return f"<h3>Outcomes per split</h3><table><tr>{head}</tr>{rows}</table>"


def _cases(cases: list[dict[str, Any]]) -> str:
    failed = [c for c in cases if not c.get("passed", True)]
    ordered = failed + [c for c in cases if c.get("passed", True)]
    columns: list[str] = []
    for case in ordered[:CASE_ROWS]:
        columns.extend(k for k in case if k not in columns)
    head = "".join(f"<th>{escape(k)}</th>" for k in columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_cell(case.get(k))}</td>" for k in columns) + "</tr>"
        for case in ordered[:CASE_ROWS]
    )
    more = len(ordered) - CASE_ROWS
    note = f'<p class="muted">{more} more case(s) in run.json</p>' if more > 0 else ""
    return (
        f"<details{' open' if failed else ''}><summary>{len(cases)} cases, {len(failed)} failed"
        f"</summary><table><tr>{head}</tr>{rows}</table>{note}</details>"
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return '<span class="ok">yes</span>' if value else '<span class="bad">no</span>'
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    if len(text) > 400:
        text = text[:400] + " …"
    return f"<pre>{escape(text)}</pre>" if len(text) > 60 else escape(text)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
