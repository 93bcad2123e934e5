"""SECURITY.md row 12: charts come only from a checked declarative spec, never from code."""

from __future__ import annotations

import json

import pytest

from app.ui.charts import MAX_ROWS, build_chart, parse_spec
from ingestion.errors import InputError

LINE = {
    "type": "line",
    "title": "JPM 20-day realized volatility",
    "x": {"field": "as_of", "type": "temporal", "title": "date"},
    "y": {"field": "value", "type": "quantitative", "title": "annualized", "format": ".0%"},
    "data": [{"as_of": "2020-03-16", "value": 0.81}, {"as_of": "2020-03-17", "value": 0.85}],
}


def test_the_agents_line_spec_becomes_an_altair_chart_with_inline_data() -> None:
    chart = build_chart(parse_spec(LINE)).to_dict()
    assert chart["mark"]["type"] == "line"
    assert chart["encoding"]["x"] == {"field": "as_of", "title": "date", "type": "temporal"}
    assert chart["encoding"]["y"]["axis"] == {"format": ".0%"}
    assert "url" not in json.dumps(chart["data"])  # data are inline, never fetched


def test_bar_with_series_is_grouped_not_stacked() -> None:
    spec = {
        "type": "bar",
        "x": "method",
        "y": "count",
        "series": "what",
        "data": [{"method": "garch", "count": 79, "what": "exceptions"}],
    }
    encoding = build_chart(parse_spec(spec)).to_dict()["encoding"]
    assert encoding["xOffset"] == {"field": "what", "type": "nominal"}


@pytest.mark.parametrize(
    "spec",
    [
        {**LINE, "type": "exec"},
        {**LINE, "x": "__import__('os').system('id')"},
        {**LINE, "x": "not_a_column"},
        {**LINE, "y": {"title": "no field"}},
        {**LINE, "data": {"url": "https://x.example/data.json"}},
        {**LINE, "data": []},
        {**LINE, "data": "SELECT 1"},
        {**LINE, "x": {"field": "as_of", "type": "javascript"}},
        "alt.Chart(df).mark_line()",
        {**LINE, "data": [{"as_of": "2020-01-01", "value": 1}] * (MAX_ROWS + 1)},
    ],
)
def test_specs_outside_the_vocabulary_are_refused(spec: object) -> None:
    with pytest.raises(InputError):
        parse_spec(spec)


def test_a_bad_format_string_is_dropped_not_passed_on() -> None:
    spec = {**LINE, "y": {"field": "value", "format": "');alert(1)//"}}
    assert parse_spec(spec).y.format is None
