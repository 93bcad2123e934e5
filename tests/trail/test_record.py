"""The answer-record schema and its canonical JSON (SECURITY.md row 5)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from app.trail import AnswerRecord, RecordError, canonical_json
from app.trail.record import parse_record, to_jsonable
from tests.trail.conftest import make_answer

GOLDEN_KEYS = {
    "schema_version", "id", "kind", "time", "user", "role", "status", "question", "answer",
    "refers_to", "note", "citations", "tool_calls", "sql", "feature_values", "versions",
    "tokens", "latency_ms", "warnings", "details",
}  # fmt: skip


def test_golden_answer_holds_every_field_compliance_relies_on(store) -> None:
    stored = store.append(make_answer())
    body = json.loads(canonical_json(stored.body()))
    assert set(body) == GOLDEN_KEYS | {"seq", "appended_at"}
    assert body["citations"][0] == {
        "doc_id": "doc-aapl-10k-2022",
        "doc_name": "APPLE_2022_10K.pdf",
        "title": "Apple 10-K 2022",
        "page_start": 23,
        "page_end": 24,
        "chunk_id": "chunk-0",
        "content_sha256": "ab" * 32,
        "snippet": "volatility of the market price of our stock",
    }
    call = body["tool_calls"][0]
    assert set(call) == {"tool", "args", "result", "error", "started", "ms"}
    assert call["started"] == "2026-11-28T10:00:00.000000Z"
    assert body["sql"] == [{"query": "SELECT close FROM prices WHERE ticker = 'AAPL'", "rows": 20}]
    assert body["feature_values"][0]["as_of"] == "2022-03-01"
    assert set(body["versions"]) == {"llm", "prompt", "embedding", "risk_model", "pd_model", "code"}
    assert body["tokens"] == {"prompt": 812, "completion": 64}
    assert body["time"].endswith("Z") and body["appended_at"].endswith("Z")
    assert body["user"] == "ana" and body["role"] == "analyst"


def test_times_are_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    record = make_answer(time=datetime(2026, 1, 1, 12, 0, tzinfo=plus_two))
    assert record.to_json()["time"] == "2026-01-01T10:00:00.000000Z"
    naive = make_answer(time=datetime(2026, 1, 1, 12, 0))
    assert naive.time.tzinfo is UTC


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "maybe"}, "status"),
        ({"kind": "review", "status": "approved"}, "refers_to"),
        ({"kind": "answer", "status": "approved"}, "status"),
        ({"kind": "gossip"}, "kind"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"id": "x"}, "id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_records_are_refused_naming_the_field(overrides, field) -> None:
    data = make_answer().to_json() | overrides
    with pytest.raises(RecordError) as info:
        parse_record(data)
    assert field in str(info.value)


def test_tool_values_become_plain_json() -> None:
    value = {
        "nan": float("nan"),
        "inf": float("inf"),
        "np": np.float64(0.25),
        "int": np.int64(3),
        "day": date(2022, 3, 1),
        "tuple": (1, 2),
        "dec": Decimal("1.5"),
        3: "int key",
    }
    assert to_jsonable(value) == {
        "nan": "NaN",
        "inf": "Infinity",
        "np": 0.25,
        "int": 3,
        "day": "2022-03-01",
        "tuple": [1, 2],
        "dec": 1.5,
        "3": "int key",
    }
    with pytest.raises(RecordError, match=r"record\.f: a object"):
        to_jsonable({"f": object()})


def test_canonical_json_is_deterministic_and_plain() -> None:
    a = canonical_json({"b": 1, "a": [1.5, "é"], "c": None})
    assert a == '{"a":[1.5,"é"],"b":1,"c":null}'.encode()
    assert canonical_json(json.loads(a)) == a
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_records_are_immutable() -> None:
    record = make_answer()
    with pytest.raises(ValueError):
        record.answer = "changed"  # type: ignore[misc]
    assert isinstance(parse_record(record.to_json()), AnswerRecord)


def make_prediction(**overrides) -> AnswerRecord:
    """A served PD prediction as the inference service records it."""
    fields = dict(
        kind="prediction",
        user="svc-client",
        role="analyst",
        status="answered",
        question="POST /v1/predict/pd loan_id=42",
        answer="PD 1.9%",
        tool_calls=[
            {
                "tool": "default_probability",
                "args": {"loan_id": 42},
                "result": {"pd": 0.019, "model": "pd@2"},
                "started": "2026-03-02T15:30:04Z",
                "ms": 3.5,
            }
        ],
        feature_values=[
            {
                "entity": "AAPL",
                "feature": "realized_vol_20d",
                "version": "f1a2",
                "as_of": "2026-03-02T15:30:03.9Z",
                "value": 0.31,
                "sequence": 18231,
            }
        ],
        versions={"pd_model": "pd@2", "code": "0.1.0"},
        latency_ms=4.2,
        details={"request": {"loan_id": 42}},
    )
    return AnswerRecord(**(fields | overrides))


def test_prediction_and_digest_kinds() -> None:
    served = make_prediction().to_json()
    assert served["kind"] == "prediction"
    assert served["feature_values"][0]["sequence"] == 18231
    assert parse_record(served).to_json() == served
    digest = make_answer(kind="digest", question="Best Buy 2019 -> 2023: what changed?")
    assert digest.to_json()["kind"] == "digest"
    # A refused prediction has no model output to log.
    assert make_prediction(status="refused", tool_calls=[], versions={}).status == "refused"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tool_calls": []}, "must log its model call"),
        ({"versions": {"code": "0.1.0"}}, "must name its model version"),
        ({"status": "approved"}, "status of a prediction"),
    ],
)
def test_prediction_rules(overrides, message) -> None:
    data = make_prediction().to_json() | overrides
    with pytest.raises(RecordError, match=message):
        parse_record(data)


def test_other_model_versions_count_for_a_prediction() -> None:
    assert make_prediction(versions={"vol_model": "vol@3"}).versions.models() == {
        "vol_model": "vol@3"
    }


def test_feature_values_without_sequence_keep_their_old_shape() -> None:
    body = make_answer().to_json()
    assert set(body["feature_values"][0]) == {"entity", "feature", "version", "as_of", "value"}
