"""The sql suite: the gold set holds on the demo data; an LLM is scored over the real wire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.harness.runner import run_eval
from evals.harness.suite_sql import extract_sql, load_gold, schema_text
from tests.agent.openai_server import ChatServer, text


def test_every_gold_query_passes_the_guard_and_returns_rows(demo_home: Path) -> None:
    from tools.sql import open_locked, run_query

    gold = load_gold()
    assert len(gold) >= 30
    assert len({g["id"] for g in gold}) == len(gold)
    con = open_locked(demo_home / "warehouse.duckdb")
    try:
        empty = [g["id"] for g in gold if not run_query(con, g["gold_sql"]).rows]
    finally:
        con.close()
    assert empty == []


def test_schema_shown_to_the_model_has_no_personal_data() -> None:
    schema = schema_text()
    assert "credit_amount" in schema and "adj_close" in schema
    for column in ("personal_status_sex", "foreign_worker", "telephone"):
        assert column not in schema


def test_extract_sql() -> None:
    assert extract_sql("Here:\n```sql\nSELECT 1;\n```\nDone") == "SELECT 1"
    assert extract_sql("SELECT 2") == "SELECT 2"


@pytest.mark.slow
def test_llm_is_scored_by_result_set_through_the_guard(
    demo_runtime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    by_id = {g["id"]: g for g in load_gold()}
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(by_id[i]) for i in ("sql-01", "sql-14", "sql-29")))
    with ChatServer() as server:
        server.enqueue(
            # right, written differently from the gold query
            text(
                "```sql\nselect p.adj_close from prices p where p.ticker='MSFT' "
                "and p.date = (select max(date) from prices where ticker='MSFT')\n```"
            ),
            # wrong fiscal year
            text(
                "SELECT value FROM fundamentals WHERE ticker = 'MSFT' AND fiscal_year = 2022 "
                "AND item = 'total_assets'"
            ),
            # hostile: must be refused by the guard, never run
            text("DROP TABLE loans"),
        )
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        run = run_eval(
            demo_runtime,
            suites=["sql"],
            llm="openai:test-model",
            options={"sql_gold": str(gold), "price_per_mtok": (1.0, 2.0)},
        )
        requests = server.requests
    result = run.suites["sql"]
    assert result.status == "ok", result.message
    m = result.metrics
    assert (m["questions"], m["gold_valid"]) == (3, 1.0)
    assert m["llm_execution_accuracy"] == 0.3333
    assert (m["llm_guard_rejections"], m["llm_errors"]) == (1, 0)
    assert len(requests) == 3
    system = requests[0]["body"]["messages"][0]["content"]
    assert "fundamentals(" in system and "personal_status_sex" not in system
    assert "Evidence:" in requests[0]["body"]["messages"][1]["content"]
    cases = {c["id"]: c for c in result.cases}
    assert cases["sql-01"]["llm_match"] and not cases["sql-14"]["llm_match"]
    assert cases["sql-29"]["llm_error"].startswith("guard:")
    assert run.model == "test-model" and run.run_id.endswith("openai-test-model")
    assert len(result.charts["latency_ms"]) == 3
