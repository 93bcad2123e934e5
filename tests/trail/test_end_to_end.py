"""The real agent and the trail together: ask, then list/show/verify/replay; a full disk withholds.

Uses the session demo data (slow to build once) and the offline planner.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.trail.sqlite import SqliteTrailStore

QUESTION = "What was the 20-day volatility of AAPL at the end of 2020?"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_an_answer_is_recorded_verifiable_and_replayable(demo_runtime) -> None:
    from app.agent import answer

    result = answer(demo_runtime, QUESTION, demo_runtime.user("analyst"))
    assert result.status == "answered" and result.trail_seq is not None
    stored = demo_runtime.trail.get(result.id)
    record = stored.record
    assert record["user"] == "analyst" and record["question"] == QUESTION
    assert record["answer"] == result.answer
    assert record["tool_calls"] and record["feature_values"]
    assert record["versions"]["code"] and record["versions"]["llm"]

    code, out, _ = run("trail", "verify", "--user", "compliance")
    assert code == 0 and "ok:" in out
    code, out, _ = run("trail", "list", "--json", "--user", "analyst")
    assert result.id in [r["id"] for r in json.loads(out)]
    code, out, _ = run("trail", "replay", result.id, "--json", "--user", "compliance")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    assert [c["tool"] for c in report["calls"]] == [c["tool"] for c in record["tool_calls"]]


class ReadOnlyDisk(SqliteTrailStore):
    """The real store on a file system that turned read-only (e.g. remounted after disk errors)."""

    def _open(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)


@pytest.mark.slow
def test_answer_is_withheld_when_the_trail_cannot_be_written(demo_runtime) -> None:
    from app.agent import answer

    trail = demo_runtime.trail
    trail.append({"user": "analyst", "role": "analyst", "status": "answered", "question": "q"})
    before = trail.head()
    broken = ReadOnlyDisk(trail.path)
    demo_runtime.__dict__["trail"] = broken  # Runtime.trail is a cached property
    shown: list[str] = []
    result = answer(demo_runtime, QUESTION, demo_runtime.user("analyst"), on_text=shown.append)
    assert result.status == "withheld"
    assert "withheld" in result.answer and "could not be written" in result.answer
    assert "27.9" not in result.answer and shown == []  # the figure was never shown
    after = SqliteTrailStore(trail.path)
    assert after.head() == before and after.verify().ok


@pytest.mark.slow
def test_a_prediction_is_recorded_and_replayed_from_the_trail(demo_runtime) -> None:
    # As the inference service records one: the model call through the agent's toolbox, its
    # inputs as feature values, the model version, then `trail replay` re-runs the logged call.
    from app.agent.toolbox import run_logged_tool
    from app.trail import AnswerRecord, FeatureUse, ToolCall
    from app.trail.record import utc_now

    with demo_runtime.warehouse.reader() as con:
        loan = int(con.execute("SELECT min(loan_id) FROM loans").fetchall()[0][0])
    versions = {"pd_model": demo_runtime.registry.approved("pd").ref}
    args = {"loan_id": loan}
    result = run_logged_tool(demo_runtime, "default_probability", args, versions)
    assert "error" not in result and result["model"] == versions["pd_model"]

    def prediction(logged: dict) -> AnswerRecord:
        return AnswerRecord(
            kind="prediction",
            user="analyst",
            role="analyst",
            status="answered",
            question=f"POST /v1/predict/pd loan_id={loan}",
            answer=f"PD {logged['values']['probability_of_default']:.4f}",
            tool_calls=[
                ToolCall(
                    tool="default_probability", args=args, result=logged, started=utc_now(), ms=2.0
                )
            ],  # fmt: skip
            feature_values=[FeatureUse(**{**f, "as_of": "2026-03-02"}) for f in result["inputs"]],
            versions=versions,
            latency_ms=2.5,
            details={"request": args},
        )

    stored = demo_runtime.trail.append(prediction(result))
    code, out, _ = run("trail", "replay", stored.id, "--json", "--user", "compliance")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    assert report["versions"]["pd_model"] == versions["pd_model"]
    code, out, _ = run("trail", "list", "--json", "--kind", "prediction", "--user", "compliance")
    assert [(r["kind"], r["id"]) for r in json.loads(out)] == [("prediction", stored.id)]
    # A logged output that the model does not reproduce is named, with the differing path.
    altered = {**result, "values": {"probability_of_default": 0.5}}
    forged = demo_runtime.trail.append(prediction(altered))
    code, out, _ = run("trail", "replay", forged.id, "--user", "compliance")
    assert code == 1 and "MISMATCH" in out and "result.values.probability_of_default" in out
