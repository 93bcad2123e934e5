"""How one answer is shown: status badge, safe markdown, chart, numbered sources, the evidence.

Used by the Ask page and by the answer-trail page, so compliance sees an answer exactly as the
analyst did. Everything here takes the answer as a plain dict (the ``sightline ask --json`` shape).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pandas as pd
import streamlit as st

from app.ui.charts import build_chart, parse_spec
from app.ui.sanitize import escape_markdown, sanitize_markdown
from ingestion.errors import InputError

STATUS_BADGES = {
    "answered": ("Answered", "green", ":material/check_circle:"),
    "degraded": ("Degraded: answered without the LLM", "orange", ":material/warning:"),
    "flagged": ("Flagged: numbers not fully grounded", "red", ":material/flag:"),
    "refused": ("Declined", "gray", ":material/block:"),
    "withheld": ("Withheld: the record could not be written", "red", ":material/lock:"),
}


def as_dict(answer: Any) -> dict[str, Any]:
    """The answer as a plain dict, whatever object the agent returned."""
    if isinstance(answer, dict):
        return answer
    for method in ("to_json", "to_dict", "as_dict"):
        if callable(getattr(answer, method, None)):
            return dict(getattr(answer, method)())
    if callable(getattr(answer, "model_dump", None)):
        return dict(answer.model_dump(mode="json"))
    if dataclasses.is_dataclass(answer) and not isinstance(answer, type):
        return json.loads(json.dumps(dataclasses.asdict(answer), default=str))
    raise TypeError(f"cannot show an answer of type {type(answer).__name__}")


def render_markdown(text: str) -> None:
    """Render untrusted markdown safely (SECURITY.md row 11).

    The only place the app shows HTML: what ``sanitize_markdown`` returns has passed nh3's tag,
    attribute and URL allow-lists (and ``st.html`` runs DOMPurify over it in the browser).
    """
    safe = sanitize_markdown(text)
    if safe.html.strip():  # st.html refuses an empty body
        st.html(safe.html)
    if safe.removed:
        st.caption(
            f":material/shield: {len(safe.removed)} external link(s) or image(s) removed "
            "from this text (only allow-listed links are kept; images are never loaded)."
        )


def status_badge(status: str) -> None:
    """A coloured badge for the answer status."""
    label, color, icon = STATUS_BADGES.get(status, (status or "unknown", "gray", None))
    st.badge(label, color=color, icon=icon)  # type: ignore[arg-type]


def citation_label(number: int, citation: dict[str, Any]) -> str:
    """``[1] MICROSOFT_2023_10K_excerpt, p. 3`` (pages as a range when the chunk spans pages)."""
    name = citation.get("doc_name") or citation.get("title") or citation.get("doc_id", "?")[:12]
    start, end = citation.get("page_start"), citation.get("page_end")
    pages = f"p. {start}" if start == end or end is None else f"pp. {start}–{end}"
    return f"[{number}] {escape_markdown(str(name))}, {pages}"


def chart_spec(answer: dict[str, Any]) -> Any:
    """The answer's chart spec (the trail record keeps it under ``details.chart``)."""
    details = answer.get("details")
    return answer.get("chart") or (details.get("chart") if isinstance(details, dict) else None)


def chart_data(answer: dict[str, Any]) -> pd.DataFrame | None:
    """The rows behind the answer's chart, if it has one that parses."""
    spec = chart_spec(answer)
    if not spec:
        return None
    try:
        return parse_spec(spec).data
    except InputError:
        return None


def data_frames(answer: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Every table of data behind an answer, by name (for the CSV downloads)."""
    frames: dict[str, pd.DataFrame] = {}
    chart = chart_data(answer)
    if chart is not None:
        frames["chart"] = chart
    if answer.get("feature_values"):
        frames["feature_values"] = pd.DataFrame(answer["feature_values"])
    for i, call in enumerate(answer.get("tool_calls") or [], start=1):
        frame = _result_frame(call.get("result"))
        if frame is not None:
            frames[f"{i}_{call.get('tool', 'tool')}"] = frame
    return frames


def _result_frame(result: Any) -> pd.DataFrame | None:
    """A tool result as a table: SQL ``{"columns", "rows"}``, ``{"points"}``, or a list of rows."""
    if isinstance(result, dict):
        rows, columns = result.get("rows"), result.get("columns")
        if isinstance(rows, list) and rows and isinstance(columns, list):
            if all(isinstance(r, list | tuple) and len(r) == len(columns) for r in rows):
                return pd.DataFrame([list(r) for r in rows], columns=[str(c) for c in columns])
        points = result.get("points")
        if isinstance(points, list) and points and all(len(p) == 2 for p in points):
            return pd.DataFrame(points, columns=["as_of", "value"])
        result = rows
    if isinstance(result, list) and result and all(isinstance(r, dict) for r in result):
        return pd.DataFrame(result)
    return None


def render_answer(answer: dict[str, Any], *, key: str, page_text: Any = None) -> None:
    """Show one answer: badge, text, chart, sources, evidence and CSV downloads.

    Args:
        answer: the answer in the ``ask --json`` shape.
        key: a unique prefix for this answer's widgets.
        page_text: optional callable ``(citation) -> str | None`` giving the cited page's text.
    """
    status_badge(str(answer.get("status", "")))
    render_markdown(str(answer.get("answer", "")))
    if chart_spec(answer):
        try:
            spec = parse_spec(chart_spec(answer))
            st.altair_chart(build_chart(spec), width="stretch", key=f"{key}-chart")
        except InputError as exc:
            st.caption(f"The chart could not be drawn: {exc.message}")
    citations = answer.get("citations") or []
    if citations:
        st.markdown("**Sources**")
        for number, citation in enumerate(citations, start=1):
            with st.expander(citation_label(number, citation), icon=":material/description:"):
                text = page_text(citation) if page_text else None
                st.caption(
                    f"doc {str(citation.get('doc_id', ''))[:16]} · chunk "
                    f"{str(citation.get('chunk_id', ''))[:16]}"
                    + (" · the whole cited chunk" if text else " · cited snippet")
                )
                st.text(text or citation.get("snippet") or "")
    _render_evidence(answer, key)


def _render_evidence(answer: dict[str, Any], key: str) -> None:
    calls = answer.get("tool_calls") or []
    versions = answer.get("versions") or {}
    with st.expander("How this answer was made", icon=":material/manage_search:"):
        meta = [f"record `{answer.get('id', '?')}`"]
        if answer.get("latency_ms") is not None:
            meta.append(f"{answer['latency_ms']:,.0f} ms")
        tokens = answer.get("tokens")
        if isinstance(tokens, dict):
            meta.append("tokens " + ", ".join(f"{k} {v}" for k, v in tokens.items()))
        elif tokens is not None:
            meta.append(f"{tokens} tokens")
        st.caption(" · ".join(meta))
        if versions:
            st.markdown("**Versions**")
            st.dataframe(
                pd.DataFrame([{"component": k, "version": str(v)} for k, v in versions.items()]),
                hide_index=True,
                width="stretch",
            )
        for i, call in enumerate(calls, start=1):
            ms = call.get("ms")
            st.markdown(
                f"**{i}. `{call.get('tool', '?')}`**"
                + (f" · {ms:,.0f} ms" if ms is not None else "")
            )
            args = call.get("args") or {}
            sql = args.get("sql") if isinstance(args, dict) else None
            if sql:
                st.code(str(sql), language="sql")
            st.json(args, expanded=False)
            st.json(_trimmed(call.get("result")), expanded=False)
        if answer.get("feature_values"):
            st.markdown("**Feature values used**")
            st.dataframe(pd.DataFrame(answer["feature_values"]), hide_index=True, width="stretch")
        for name, frame in data_frames(answer).items():
            st.download_button(
                f"Download {name.replace('_', ' ')} (CSV)",
                frame.to_csv(index=False).encode("utf-8"),
                file_name=f"sightline-{str(answer.get('id', 'answer'))[:12]}-{name}.csv",
                mime="text/csv",
                key=f"{key}-csv-{name}",
                icon=":material/download:",
            )


def _trimmed(value: Any, limit: int = 50) -> Any:
    """A tool result small enough to show (long lists cut to ``limit`` items, noted)."""
    if isinstance(value, list) and len(value) > limit:
        return [*value[:limit], f"… {len(value) - limit} more"]
    if isinstance(value, dict):
        return {k: _trimmed(v, limit) for k, v in value.items()}
    return value
