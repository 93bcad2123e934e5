"""Monitoring on real data: quiet on the development sample, alerts on shifted loans and on 2008."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pytest

from app.batch.run import run_batch
from app.monitoring.monitor import monitor, recorded_alerts
from app.runtime import Runtime
from app.trail import AnswerRecord, ToolCall
from tests.batch.conftest import sightline
from tools import drift

DEV_END = date(1998, 12, 31)  # the risk model's training window is 1990-1998
WHOLE_DEV = 2300  # trading days: the whole window


def _by_input(result: dict) -> dict[str, dict]:
    return {row["input"]: row for row in result["inputs"]}


def test_psi_and_ks_basics() -> None:
    rng = np.random.default_rng(0)
    same = drift.compare_numeric(rng.normal(size=5000), rng.normal(size=5000))
    shifted = drift.compare_numeric(rng.normal(size=5000), rng.normal(0.8, 1.0, size=5000))
    assert same["psi"] < 0.02 and same["ks"] < 0.05
    assert shifted["psi"] > 0.25 and shifted["ks"] > 0.25
    assert drift.psi([10, 20, 70], [10, 20, 70]) == 0.0
    assert drift.compare_categorical(["a", "b"] * 50, ["c"] * 100)["psi"] > 1


def test_quiet_on_the_development_sample(book: Runtime) -> None:
    result = monitor(book, as_of=DEV_END, days=WHOLE_DEV, user="admin")
    rows = _by_input(result)
    assert len(rows) == 22  # 20 scorecard inputs + returns and equity volatility
    assert all(r["status"] == "ok" for r in rows.values()), [
        (r["input"], r["psi"]) for r in rows.values() if r["status"] != "ok"
    ]
    assert result["alerts"] == []
    assert recorded_alerts(book) == []


def test_alerts_fire_on_a_shifted_slice_of_the_loans(book: Runtime) -> None:
    monitor(book, as_of=DEV_END, days=WHOLE_DEV, record=False)  # stores the PD baseline
    with book.warehouse.writer() as con:  # keep only the long loans: a real, shifted slice
        con.execute("DELETE FROM loans WHERE duration_months < 24")
    assert run_batch(book, date(2020, 3, 16), user="admin", say=lambda _m: None).exit_code == 0
    result = monitor(book, as_of=DEV_END, days=WHOLE_DEV, user="admin")
    rows = _by_input(result)
    assert rows["duration_months"]["status"] == "act"
    assert rows["duration_months"]["psi"] >= 0.25 and rows["duration_months"]["ks"] > 0.3
    assert rows["credit_amount"]["status"] != "ok"  # long loans are larger loans
    assert rows["log_return_1d"]["status"] == "ok"  # the market window is still the dev sample
    scores = result["predictions"]["pd_scores"]
    assert scores["psi"] >= 0.1 and scores["status"] != "ok"  # long loans score riskier
    alerted = {a["input"] for a in result["alerts"]}
    assert {"duration_months", "pd_score"} <= alerted
    recorded = {a["input"] for a in recorded_alerts(book)}
    assert alerted == recorded  # every alert is an event in the trail


def test_alerts_fire_on_the_2008_crisis_window(book: Runtime) -> None:
    result = sightline("monitor", "--as-of", "2008-11-28", "--days", "60", "--json",
                       "--user", "admin")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = _by_input(data)
    assert rows["realized_vol_60d"]["status"] == "act" and rows["realized_vol_60d"]["psi"] > 1
    assert rows["log_return_1d"]["psi"] >= 0.25
    assert {"realized_vol_60d", "log_return_1d"} <= {a["input"] for a in data["alerts"]}
    assert all(isinstance(r["psi"], float) for r in data["inputs"])


def test_latency_percentiles_come_from_the_trail(book: Runtime) -> None:
    ms = [float(x) for x in range(10, 1010, 10)]  # 100 answers: 10 ms .. 1000 ms
    for i, value in enumerate(ms):
        book.trail.append(
            AnswerRecord(
                user="analyst", role="analyst", status="answered", question=f"q{i}",
                answer="a", latency_ms=value,
                tool_calls=[ToolCall(tool="risk_metrics", started=datetime.now(UTC),
                                     ms=value / 2)],
            )
        )  # fmt: skip
    result = sightline("monitor", "--json", "--no-record")
    data = json.loads(result.stdout)
    answers = data["latency"]["answers"]
    assert answers["count"] == 100
    assert answers["p95"] == pytest.approx(float(np.percentile(ms, 95)))
    tool = data["latency"]["by_tool"]["risk_metrics"]
    assert tool["p95"] == pytest.approx(float(np.percentile(ms, 95)) / 2)
    today = datetime.now(UTC).date().isoformat()
    assert data["latency"]["by_day"][today]["p99"] == pytest.approx(float(np.percentile(ms, 99)))
    assert {t["table"] for t in data["freshness"]} >= {"prices", "loans", "positions"}
