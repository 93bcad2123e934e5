"""The agent tools as langchain-core tools: schemas, validation, errors as messages (no demo)."""

from __future__ import annotations

import pytest
from langchain_core.tools import BaseTool

from app.agent.toolbox import context_for
from tools.agent_tools import TOOLS, build_tools, call_tool, openai_schemas


@pytest.fixture
def ctx(runtime):  # noqa: ANN001, ANN201
    runtime.users.ensure_demo_users()
    context = context_for(runtime, runtime.user("analyst"))
    yield context
    context.close()


def test_every_tool_is_a_langchain_tool_with_a_strict_openai_schema(ctx) -> None:  # noqa: ANN001
    tools = build_tools(ctx)
    assert [t.name for t in tools] == list(TOOLS)
    assert all(isinstance(t, BaseTool) and t.description for t in tools)
    schemas = {s["function"]["name"]: s for s in openai_schemas()}
    assert set(schemas) == set(TOOLS)
    for spec in schemas.values():
        assert spec["type"] == "function"
        assert spec["function"]["parameters"]["additionalProperties"] is False


def test_langchain_invoke_runs_the_guarded_query(ctx) -> None:  # noqa: ANN001
    tool = next(t for t in build_tools(ctx) if t.name == "query_features")
    result = tool.invoke({"sql": "SELECT count(*) AS n FROM prices"})
    assert result["rows"] == [[0]] and result["tables"] == ["prices"]


@pytest.mark.parametrize(
    ("name", "args", "fragment"),
    [
        ("query_features", {"sql": "DROP TABLE prices"}, "only SELECT"),
        ("query_features", {"sql": "SELECT 1", "path": "/etc/passwd"}, "Extra inputs"),
        ("get_features", {"entities": ["not a ticker!"]}, "entities"),
        ("search_documents", {"query": "x", "groups": ["deal-team"]}, "Extra inputs"),
        ("risk_metrics", {"ticker": "AAPL", "horizon_days": 1000}, "horizon_days"),
        ("default_probability", {"issuer": "KO", "model_version": "pd@x"}, "model_version"),
        ("describe_data", {"topic": "passwords"}, "topic"),
        ("drop_everything", {}, "unknown tool"),
    ],
)
def test_bad_calls_come_back_as_messages(ctx, name: str, args: dict, fragment: str) -> None:  # noqa: ANN001
    result = call_tool(ctx, name, args)
    assert fragment in result["error"]
    assert "hint" in result


def test_describe_tables_hides_personal_data_and_internal_tables(ctx) -> None:  # noqa: ANN001
    tables = {
        t["name"]: t["columns"]
        for t in call_tool(ctx, "describe_data", {"topic": "tables"})["tables"]
    }
    assert {"prices", "loans", "macro"} <= set(tables)
    assert not {"loads", "_migrations"} & set(tables)
    assert not any("personal_status_sex" in c for c in tables["loans"])
