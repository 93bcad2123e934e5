"""Charts built only from a declarative spec (SECURITY.md row 12): data and field names, no code.

The agent describes a chart as plain data — a mark, the fields for x, y and series, and the rows.
This module checks that description against a fixed vocabulary and builds the Altair chart itself.
Nothing in a spec is ever executed, evaluated or passed through as a Vega-Lite spec (which could
name a remote ``data.url`` and make the browser fetch it).

Spec (every key optional except ``data``, ``x`` and ``y``)::

    {"kind": "line" | "bar" | "area" | "point", "title": "...",
     "x": "as_of" | {"field": "as_of", "title": "Date", "type": "temporal"},
     "y": "value" | {"field": "value", "title": "Volatility", "format": ".1%"},
     "series": "entity" | {"field": "entity", "title": "Ticker"},
     "data": [{"as_of": "2020-03-16", "value": 0.81, "entity": "JPM"}, ...]}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ingestion.errors import InputError

KINDS = ("line", "bar", "area", "point")
TYPES = ("temporal", "quantitative", "nominal", "ordinal")
MAX_ROWS = 20_000
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_FORMAT = re.compile(r"^[.,%$0-9a-z~+\-]{0,12}$")


@dataclass(frozen=True)
class Axis:
    """One encoding channel: a column of the data, with a title and an optional type/format."""

    field: str
    title: str
    type: str | None = None  # one of TYPES, inferred when None
    format: str | None = None  # a d3-format string such as ".1%"


@dataclass(frozen=True)
class ChartSpec:
    """A checked chart description."""

    kind: str
    title: str
    x: Axis
    y: Axis
    series: Axis | None
    data: pd.DataFrame


def _axis(raw: Any, name: str, columns: set[str]) -> Axis:
    if isinstance(raw, str):
        raw = {"field": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("field"), str):
        raise InputError(f"chart {name} must name a field")
    field = raw["field"]
    if not _FIELD.fullmatch(field) or field not in columns:
        raise InputError(f"chart {name} field {field!r} is not a column of the chart data")
    kind = raw.get("type")
    if kind is not None and kind not in TYPES:
        raise InputError(f"chart {name} type {kind!r} is not one of {', '.join(TYPES)}")
    fmt = raw.get("format")
    if fmt is not None and (not isinstance(fmt, str) or not _FORMAT.fullmatch(fmt)):
        fmt = None
    title = raw.get("title") if isinstance(raw.get("title"), str) else field
    return Axis(field=field, title=str(title)[:80], type=kind, format=fmt)


def parse_spec(spec: Any) -> ChartSpec:
    """Check ``spec`` against the vocabulary above; InputError when it does not fit."""
    if not isinstance(spec, dict):
        raise InputError("a chart spec must be an object")
    kind = spec.get("kind") or spec.get("mark") or spec.get("type") or "line"
    if kind not in KINDS:
        raise InputError(f"chart kind {kind!r} is not one of {', '.join(KINDS)}")
    rows = spec.get("data") if spec.get("data") is not None else spec.get("values")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise InputError("a chart needs its data as a non-empty list of rows")
    if len(rows) > MAX_ROWS:
        raise InputError(f"a chart may have at most {MAX_ROWS:,} rows")
    frame = pd.DataFrame(rows)
    columns = {str(c) for c in frame.columns}
    x = _axis(spec.get("x"), "x", columns)
    y = _axis(spec.get("y"), "y", columns)
    series_raw = spec.get("series") or spec.get("color")
    series = _axis(series_raw, "series", columns) if series_raw else None
    title = str(spec["title"]) if isinstance(spec.get("title"), str) else ""
    frame[y.field] = pd.to_numeric(frame[y.field], errors="coerce")
    if x.type == "temporal" or (x.type is None and _looks_like_dates(frame[x.field])):
        frame[x.field] = pd.to_datetime(frame[x.field], errors="coerce", format="ISO8601")
        x = Axis(x.field, x.title, "temporal", x.format)
    return ChartSpec(str(kind), title[:120], x, y, series, frame)


def _looks_like_dates(values: pd.Series) -> bool:
    sample = values.dropna().astype(str).head(20)
    return bool(len(sample)) and bool(sample.str.fullmatch(r"\d{4}-\d{2}-\d{2}.*").all())


def build_chart(spec: ChartSpec):  # noqa: ANN201  (altair.Chart; imported lazily)
    """The Altair chart for a checked spec."""
    import altair as alt

    # Fields are passed by name, never as shorthand strings, so no character in a name is parsed.
    def channel(axis: Axis, kind: str, cls: Any, **extra: Any) -> Any:
        if axis.format and cls in (alt.Y, alt.Tooltip):
            extra["axis" if cls is alt.Y else "format"] = (
                alt.Axis(format=axis.format) if cls is alt.Y else axis.format
            )
        return cls(field=axis.field, type=axis.type or kind, title=axis.title, **extra)

    x_kind = "temporal" if spec.x.type == "temporal" else "nominal"
    if spec.kind != "bar" and spec.x.type is None:
        x_kind = (
            "quantitative" if pd.api.types.is_numeric_dtype(spec.data[spec.x.field]) else "nominal"
        )
    encoding: dict[str, Any] = {
        "x": channel(spec.x, x_kind, alt.X),
        "y": channel(spec.y, "quantitative", alt.Y),
        "tooltip": [
            channel(a, k, alt.Tooltip)
            for a, k in ((spec.x, x_kind), (spec.y, "quantitative"), (spec.series, "nominal"))
            if a is not None
        ],
    }
    if spec.series is not None:
        encoding["color"] = channel(spec.series, "nominal", alt.Color)
        if spec.kind == "bar":  # side by side: stacked bars would add up unrelated counts
            encoding["xOffset"] = alt.XOffset(field=spec.series.field, type="nominal")
    mark = {
        "line": "mark_line",
        "bar": "mark_bar",
        "area": "mark_area",
        "point": "mark_point",
    }[spec.kind]
    chart = getattr(alt.Chart(spec.data), mark)().encode(**encoding)
    return chart.properties(title=spec.title) if spec.title else chart
