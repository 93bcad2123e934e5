"""`sightline ask` as a user runs it: a real subprocess over a copy of the demo data."""

from __future__ import annotations

import json
import os
import subprocess
import sys

FIELDS = {
    "id", "question", "answer", "status", "citations", "tool_calls", "feature_values",
    "versions", "chart", "tokens", "latency_ms", "warnings", "interpretation",
}  # fmt: skip


def ask(home, *args: str) -> subprocess.CompletedProcess:  # noqa: ANN001
    env = dict(os.environ, SIGHTLINE_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "ask", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_ask_json_has_exactly_the_contract_fields(agent_rt) -> None:  # noqa: ANN001
    done = ask(agent_rt.settings.home, "What is the probability of default of PEP?", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert set(payload) == FIELDS
    assert payload["status"] == "answered"
    # the one-line interpretation, in the text and as its own field (issue 14)
    assert (
        payload["interpretation"]
        and f"Interpreted as: {payload['interpretation']}" in (payload["answer"])
    )
    assert set(payload["versions"]) == {
        "llm",
        "prompt",
        "embedding",
        "risk_model",
        "pd_model",
        "code",
    }
    assert payload["versions"]["pd_model"].startswith("pd@")
    assert payload["tool_calls"][0]["tool"] == "default_probability"
    assert {"tool", "args", "result", "ms"} == set(payload["tool_calls"][0])
    # recorded before it was printed
    assert agent_rt.trail.get(payload["id"]).record["question"] == payload["question"]


def test_ask_text_shows_sources_and_models(agent_rt) -> None:  # noqa: ANN001
    done = ask(agent_rt.settings.home, "What does Pfizer's 10-K say about Comirnaty?")
    assert done.returncode == 0, done.stderr
    assert "Sources:" in done.stdout and "PFIZER_2021_10K_excerpt, p." in done.stdout
    assert "Status: answered" in done.stdout and "offline-planner@1" in done.stdout
    citation = json.loads(
        ask(agent_rt.settings.home, "What does Pfizer's 10-K say about Comirnaty?", "--json").stdout
    )["citations"][0]
    assert {"doc_id", "doc_name", "page_start", "page_end", "chunk_id", "snippet"} <= set(citation)


def test_ask_for_an_unknown_user_is_refused(agent_rt) -> None:  # noqa: ANN001
    done = ask(agent_rt.settings.home, "What was the VIX on 2018-02-05?", "--user", "mallory")
    assert done.returncode == 1
    assert done.stderr.startswith("error: unknown user 'mallory'")
    assert "Traceback" not in done.stderr


def test_withheld_answer_exits_non_zero(agent_rt) -> None:  # noqa: ANN001
    trail = agent_rt.settings.home / "trail.sqlite"
    for leftover in trail.parent.glob("trail.sqlite*"):
        leftover.unlink()
    trail.mkdir()
    done = ask(agent_rt.settings.home, "What was the VIX on 2018-02-05?")
    assert done.returncode == 1
    assert "withheld" in done.stdout and "37.32" not in done.stdout
