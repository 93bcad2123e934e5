"""Reviews and corrections are new records; replay re-runs logged tool calls and compares."""

from __future__ import annotations

from typing import Any

import pytest

from app.trail import ToolCall
from app.trail.replay import first_difference, replay_record
from app.trail.review import correct_answer, follow_ups, review_answer
from ingestion.errors import InputError, PermissionDenied
from tests.trail.conftest import make_answer

# A small deterministic "model": its output depends on the arguments and the logged version.
SCALE = {"toy@1": 2.0, "toy@2": 2.5}


def toy_tool(name: str, args: dict[str, Any], versions: dict[str, Any]) -> dict[str, Any]:
    if name == "scale":
        return {"value": args["x"] * SCALE[versions["toy_model"]], "model": versions["toy_model"]}
    if name == "explode":
        raise ValueError("ticker ZZZZ is unknown")
    raise KeyError(f"unknown tool {name}")


def toy_answer(version: str, calls: list[tuple[str, dict, Any, str | None]]):
    return make_answer(
        versions={"toy_model": version, "code": "0.1.0"},
        tool_calls=[
            ToolCall(
                tool=tool,
                args=args,
                result=result,
                error=error,
                started="2026-11-28T10:00:00Z",
                ms=1,
            )
            for tool, args, result, error in calls
        ],
    )


def test_review_is_a_new_record_pointing_at_the_answer(people) -> None:
    trail = people.trail
    original = trail.append(make_answer("ana"))
    review = review_answer(
        trail, original.id, reviewer=people.user("carl"), status="flagged", note="vol looks high"
    )
    assert review.seq == original.seq + 1
    assert review.record["refers_to"] == original.id
    assert review.record["user"] == "carl" and review.record["role"] == "compliance"
    assert review.record["time"].endswith("Z") and review.record["note"] == "vol looks high"
    assert trail.get(original.id) == original  # untouched, same hash
    assert [f.id for f in follow_ups(trail, original.id)] == [review.id]
    assert trail.verify().ok


def test_review_refusals(people) -> None:
    trail = people.trail
    original = trail.append(make_answer("ana"))
    with pytest.raises(PermissionDenied, match="only the compliance role"):
        review_answer(trail, original.id, reviewer=people.user("bob"), status="approved", note="x")
    with pytest.raises(InputError, match="needs a note"):
        review_answer(trail, original.id, reviewer=people.user("carl"), status="approved", note="")
    with pytest.raises(InputError, match="unknown review status"):
        review_answer(trail, original.id, reviewer=people.user("carl"), status="fine", note="x")
    own = trail.append(make_answer("carl", role="compliance"))
    with pytest.raises(PermissionDenied, match="their own answer"):
        review_answer(trail, own.id, reviewer=people.user("carl"), status="approved", note="x")
    review = review_answer(
        trail, original.id, reviewer=people.user("carl"), status="approved", note="ok"
    )
    with pytest.raises(InputError, match="not an answer"):
        review_answer(trail, review.id, reviewer=people.user("cleo"), status="approved", note="x")
    assert trail.head().count == 3


def test_correction_leaves_both_visible(people) -> None:
    trail = people.trail
    original = trail.append(make_answer("ana"))
    fixed = correct_answer(
        trail, original.id, author=people.user("ana"), answer="It was 0.29.", note="typo in figure"
    )
    assert trail.get(original.id).record["answer"] == original.record["answer"]
    assert trail.get(fixed.id).record["answer"] == "It was 0.29."
    assert fixed.record["kind"] == "correction" and fixed.record["refers_to"] == original.id
    with pytest.raises(PermissionDenied):
        correct_answer(trail, original.id, author=people.user("bob"), answer="x", note="y")


def test_replay_matches_when_tools_reproduce(store) -> None:
    stored = store.append(
        toy_answer(
            "toy@1",
            [
                ("scale", {"x": 3}, {"value": 6.0, "model": "toy@1"}, None),
                ("explode", {}, None, "ticker ZZZZ is unknown"),
            ],
        )
    )
    seen: list[tuple[str, dict, dict]] = []

    def run(name, args, versions):
        seen.append((name, args, versions))
        return toy_tool(name, args, versions)

    report = replay_record(store.get(stored.id), run)
    assert report.ok, report.to_json()
    assert [c.match for c in report.calls] == [True, True]
    assert seen[0] == ("scale", {"x": 3}, stored.record["versions"])
    assert seen[0][2]["toy_model"] == "toy@1"


def test_replay_names_the_call_that_no_longer_reproduces(store) -> None:
    # Logged under toy@2 but the output recorded is toy@1's: the record and model disagree.
    stored = store.append(
        toy_answer(
            "toy@2",
            [
                ("scale", {"x": 1}, {"value": 2.5, "model": "toy@2"}, None),
                ("scale", {"x": 4}, {"value": 8.0, "model": "toy@2"}, None),
                ("nosuch", {}, {"value": 1}, None),
            ],
        )
    )
    report = replay_record(stored, toy_tool)
    assert not report.ok
    assert [c.match for c in report.calls] == [True, False, False]
    assert report.calls[1].difference == "result.value: logged 8.0, now 10.0"
    assert "failed now" in report.calls[2].difference
    assert report.to_json()["ok"] is False


def test_replay_refuses_records_without_tool_calls(people) -> None:
    trail = people.trail
    original = trail.append(make_answer("ana"))
    review = review_answer(trail, original.id, reviewer=people.user("carl"), status="approved",
                           note="ok")  # fmt: skip
    with pytest.raises(InputError):
        replay_record(review, toy_tool)


def test_first_difference() -> None:
    assert first_difference({"a": [1, 2.0]}, {"a": [1, 2.0 + 1e-15]}) is None
    assert first_difference({"a": 1}, {"a": 1, "b": 2}) == "result.b: new, not in the logged output"
    assert first_difference([1], [1, 2]) == "result: logged 1 items, now 2"
    assert first_difference(True, 1) == "result: logged True, now 1"
    assert first_difference("NaN", "NaN") is None


def test_replay_of_an_error_reported_in_the_result(store) -> None:
    # Tools that return {"error": ...} instead of raising: the same error again is a match.
    def run(name, args, versions):
        return {"error": f"unknown ticker {args['ticker']}"}

    stored = store.append(
        toy_answer(
            "toy@1",
            [
                (
                    "lookup",
                    {"ticker": "ZZZZ"},
                    {"error": "unknown ticker ZZZZ"},
                    "unknown ticker ZZZZ",
                )
            ],
        )  # fmt: skip
    )
    assert replay_record(stored, run).ok
    changed = store.append(
        toy_answer("toy@1", [("lookup", {"ticker": "AAPL"}, {"value": 1.0}, None)])
    )
    report = replay_record(changed, run)
    assert not report.ok and "result.error: new" in report.calls[0].difference
