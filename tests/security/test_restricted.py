"""SECURITY 9: restricted tickers are enforced in the SQL, feature, risk and PD tools too.

The demo restricts BBY to deal-team. The public-side analyst asking for BBY by name, by SQL
literal, IN list, LIKE pattern or ``SELECT *`` is refused, no BBY row reaches the answer or the
trail, and the refusal is a barrier event in the record; the private-side analyst gets the data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.agent import answer
from app.agent.evidence import Evidence
from app.agent.toolbox import context_for, execute
from app.cli import cli
from tools import restricted
from tools.agent_tools import call_tool
from tools.errors import BarrierError
from tools.restricted import RestrictedList

RESTRICTED = "BBY"


@pytest.fixture
def rt(demo_runtime):  # noqa: ANN001, ANN201
    """A private demo copy with BBY on the restricted list (the demo step)."""
    assert RESTRICTED in RestrictedList(demo_runtime.settings.home).policy()
    return demo_runtime


def _bby_closes(rt) -> set[str]:  # noqa: ANN001
    """BBY's distinctive prices, written as the agent would (to find leaks in text/records)."""
    with rt.warehouse.reader() as con:
        rows = con.execute(
            "SELECT adj_close FROM prices WHERE ticker = 'BBY' AND adj_close NOT IN "
            "(SELECT adj_close FROM prices WHERE ticker <> 'BBY') ORDER BY date DESC LIMIT 30"
        ).fetchall()
    return {f"{r[0]:.4f}" for r in rows}


def _sql(rt, user: str, sql: str) -> tuple[dict, Evidence]:  # noqa: ANN001
    ctx = context_for(rt, rt.user(user))
    ev = Evidence()
    try:
        return execute(ctx, ev, "query_features", {"sql": sql}), ev
    finally:
        ctx.close()


HOSTILE_SQL = [
    "SELECT date, adj_close FROM prices WHERE ticker = 'BBY' ORDER BY date DESC LIMIT 5",
    "SELECT date, adj_close FROM prices WHERE ticker = 'bby' LIMIT 5",
    "SELECT ticker, max(adj_close) FROM prices WHERE ticker IN ('KO', 'BBY') GROUP BY 1",
    "SELECT date, adj_close FROM prices WHERE ticker LIKE 'BB%' LIMIT 5",
    "SELECT date, adj_close FROM prices WHERE ticker ILIKE '_by' LIMIT 5",
    "SELECT avg(adj_close) FROM prices WHERE ticker = 'BB' || 'Y'",
    "SELECT count(*) FROM prices WHERE regexp_matches(ticker, '^B.Y$')",
    # An exclusion is allowed only as a plain filter of the final rows; these select BBY instead.
    "SELECT sum(CASE WHEN ticker <> 'BBY' THEN 0 ELSE adj_close END) FROM prices",
    "SELECT avg(adj_close) FROM prices WHERE NOT (ticker <> 'BBY')",
    "SELECT avg(adj_close) FROM prices WHERE ticker NOT IN "
    "(SELECT ticker FROM prices WHERE ticker <> 'BBY')",
    "SELECT avg(adj_close) FROM prices WHERE ticker <> 'BBY' OR date > DATE '2000-01-01'",
]


@pytest.mark.parametrize("sql", HOSTILE_SQL)
def test_public_side_sql_naming_or_returning_the_ticker_is_refused(rt, sql: str) -> None:  # noqa: ANN001
    result, ev = _sql(rt, "analyst", sql)
    assert result.get("barrier") is True, result
    assert "restricted" in result["error"]
    assert "deal" not in json.dumps(result).lower()  # the reason is never revealed
    assert "rows" not in result
    assert [e["tool"] for e in ev.barrier_events] == ["query_features"]


# Queries that never name the ticker: the barred rows are filtered out of every table before the
# query reads it, so they answer from the other tickers (no refusal, no BBY in any row).
FILTERED_SQL = [
    "SELECT * FROM prices WHERE date = (SELECT max(date) FROM prices)",
    "SELECT * FROM positions",
    "SELECT DISTINCT ticker FROM fundamentals",
    "WITH t AS (SELECT ticker FROM prices) SELECT DISTINCT ticker FROM t",
    "WITH prices AS (SELECT * FROM prices) SELECT DISTINCT ticker FROM prices",
    "SELECT DISTINCT p.ticker FROM prices p JOIN fundamentals f ON f.ticker = p.ticker",
]


@pytest.mark.parametrize("sql", FILTERED_SQL)
def test_public_side_queries_see_no_restricted_rows(rt, sql: str) -> None:  # noqa: ANN001
    result, ev = _sql(rt, "analyst", sql)
    assert "error" not in result, result
    assert result["row_count"] > 0
    cells = {str(v).upper() for row in result["rows"] for v in row}
    assert RESTRICTED not in cells
    assert RESTRICTED not in result["sql"]  # the shown SQL never lists what is hidden
    assert not ev.barrier_events


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT round(avg(adj_close), 6) FROM prices",
        "SELECT count(*) FROM prices WHERE adj_close > 1",
        # A ticker built at run time that the literal check cannot fold: the rows are gone anyway.
        "SELECT count(*) FROM prices WHERE ticker = chr(66) || chr(66) || chr(89)",
    ],
)
def test_aggregates_over_all_tickers_leave_the_restricted_rows_out(rt, sql: str) -> None:  # noqa: ANN001
    public, _ = _sql(rt, "analyst", sql)
    private, _ = _sql(rt, "analyst_private", sql)
    with rt.warehouse.reader() as con:
        without = con.execute(sql.replace("FROM prices", "FROM (SELECT * FROM prices WHERE "
                                          "ticker <> 'BBY') AS prices")).fetchone()[0]  # fmt: skip
        everything = con.execute(sql).fetchone()[0]
    assert public["rows"][0][0] == pytest.approx(float(without))
    assert private["rows"][0][0] == pytest.approx(float(everything))
    assert without != everything


def test_private_side_analyst_gets_the_rows(rt) -> None:  # noqa: ANN001
    result, ev = _sql(rt, "analyst_private", HOSTILE_SQL[0])
    assert "error" not in result
    assert result["row_count"] == 5
    assert not ev.barrier_events


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT DISTINCT ticker FROM prices WHERE ticker <> 'BBY'",
        "SELECT DISTINCT ticker FROM prices WHERE date > DATE '2020-01-01' AND ticker NOT IN "
        "('BBY', 'KO')",
    ],
)
def test_public_side_may_leave_the_ticker_out(rt, sql: str) -> None:  # noqa: ANN001
    result, ev = _sql(rt, "analyst", sql)
    assert "error" not in result, result
    tickers = {r[0] for r in result["rows"]}
    assert RESTRICTED not in tickers and len(tickers) > 5
    assert not ev.barrier_events


def test_public_side_other_tickers_still_answer(rt) -> None:  # noqa: ANN001
    result, _ = _sql(rt, "analyst", "SELECT ticker, count(*) FROM prices WHERE ticker = 'KO' "
                     "GROUP BY 1")  # fmt: skip
    assert result["rows"][0][0] == "KO"


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("get_features", {"entities": ["KO", "BBY"], "names": ["leverage"]}),
        ("get_feature_history", {"entity": "BBY", "name": "realized_vol_20d"}),
        ("risk_metrics", {"ticker": "BBY"}),
        ("risk_metrics", {"weights": {"KO": 0.5, "BBY": 0.5}}),
        ("risk_metrics", {"portfolio": "DEMO"}),  # the DEMO portfolio holds BBY
        ("default_probability", {"issuer": "BBY"}),
    ],
)
def test_feature_risk_and_pd_tools_refuse(rt, tool: str, args: dict) -> None:  # noqa: ANN001
    public = context_for(rt, rt.user("analyst"))
    private = context_for(rt, rt.user("analyst_private"))
    try:
        refused = call_tool(public, tool, args)
        assert refused.get("barrier") is True, refused
        allowed = call_tool(private, tool, args)
        assert "error" not in allowed, allowed
    finally:
        public.close()
        private.close()


def test_describe_data_does_not_list_the_ticker_on_the_public_side(rt) -> None:  # noqa: ANN001
    ctx = context_for(rt, rt.user("analyst"))
    try:
        tickers = {t["ticker"] for t in call_tool(ctx, "describe_data", {"topic": "tickers"})[
            "tickers"]}  # fmt: skip
        assert RESTRICTED not in tickers and "KO" in tickers
    finally:
        ctx.close()


@pytest.mark.parametrize(
    "question",
    [
        "What was BBY's leverage as of 2023-06-30?",
        "What is the probability of default of BBY?",
        "What is the 99% 10-day VaR and expected shortfall of the DEMO portfolio?",
    ],
)
def test_asking_by_name_is_refused_and_logged(rt, question: str) -> None:  # noqa: ANN001
    closes = _bby_closes(rt)
    assert closes  # the leak check below has something to look for
    result = answer(rt, question, "analyst")
    assert result.status == "refused"
    assert "restricted" in result.answer
    stored = rt.trail.get(result.id).record
    events = stored["details"]["barrier_events"]
    assert events and all(e["refused"] for e in events)
    assert any("information barrier" in w for w in stored["warnings"])
    blob = json.dumps(stored) + result.answer + json.dumps(result.citations)
    assert not any(c in blob for c in closes)
    for call in stored["tool_calls"]:
        assert "rows" not in (call["result"] or {}) and "values" not in (call["result"] or {})

    private = answer(rt, question, "analyst_private")
    assert private.status == "answered"
    assert "barrier_events" not in rt.trail.get(private.id).record["details"]


def test_ranking_on_the_public_side_leaves_the_ticker_out(rt) -> None:  # noqa: ANN001
    question = "Top 5 tickers by 20-day realized volatility on 2012-12-31"
    public = answer(rt, question, "analyst")
    private = answer(rt, question, "analyst_private")
    assert public.status == private.status == "answered"
    assert RESTRICTED not in public.answer and RESTRICTED in private.answer


def test_cli_ask_and_trail_list_barrier(rt) -> None:  # noqa: ANN001
    runner = CliRunner()
    out = runner.invoke(cli, ["ask", "--user", "analyst", "--json",
                              "What was BBY's leverage as of 2023-06-30?"])  # fmt: skip
    assert out.exit_code == 0, out.output
    runner.invoke(cli, ["ask", "--user", "analyst", "What was KO's leverage as of 2018-06-30?"])
    listed = runner.invoke(cli, ["trail", "list", "--barrier", "--json", "--user", "compliance"])
    assert listed.exit_code == 0, listed.output
    records = json.loads(listed.output)
    assert [r["record"]["question"] for r in records] == [
        "What was BBY's leverage as of 2023-06-30?"
    ]
    assert records[0]["record"]["user"] == "analyst"


def test_only_compliance_or_admin_change_the_list(runtime) -> None:  # noqa: ANN001
    runtime.users.ensure_demo_users()
    runner = CliRunner()
    add = ["restricted", "add", "KO", "--groups", "deal-team,research", "--reason", "mandate"]
    refused = runner.invoke(cli, [*add, "--user", "analyst"])
    assert refused.exit_code == 1 and "may not change" in refused.output
    assert RestrictedList(runtime.settings.home).entries() == []
    assert runner.invoke(cli, [*add, "--user", "compliance"]).exit_code == 0
    listed = json.loads(runner.invoke(cli, ["restricted", "list", "--json"]).output)
    assert listed["entries"][0]["allowed_groups"] == ["deal-team", "research"]
    assert runner.invoke(cli, ["restricted", "remove", "KO", "--user", "analyst"]).exit_code == 1
    assert runner.invoke(cli, ["restricted", "remove", "KO", "--user", "admin"]).exit_code == 0
    again = runner.invoke(cli, ["restricted", "remove", "KO", "--user", "admin"])
    assert again.exit_code == 1 and "not on the restricted list" in again.output
    history = json.loads(runner.invoke(cli, ["restricted", "list", "--json"]).output)["history"]
    assert [(h["action"], h["by"]) for h in history] == [("add", "compliance"), ("remove", "admin")]
    assert "the restricted list is empty" in runner.invoke(cli, ["restricted", "list"]).output


def test_bad_entries_are_refused_and_nothing_is_stored(runtime) -> None:  # noqa: ANN001
    store = RestrictedList(runtime.settings.home)
    for ticker, groups, reason in [("not a ticker", ["x"], "r"), ("KO", [], "r"),
                                   ("KO", ["Bad Group"], "r"), ("KO", ["x"], " ")]:  # fmt: skip
        with pytest.raises(Exception, match="ticker|group|reason"):
            store.add(ticker, groups, reason, "compliance")
    assert not Path(store.path).exists()


def test_barrier_error_is_a_permission_denied() -> None:
    from ingestion.errors import PermissionDenied

    err = restricted.refuse("BBY")
    assert isinstance(err, BarrierError) and isinstance(err, PermissionDenied)
    assert err.hint and "deal" not in str(err)


_COLUMNS = ["ticker", "date", "adj_close", "close", "volume", "upper(ticker)", "lower(ticker)"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    columns=st.lists(st.sampled_from(_COLUMNS), min_size=1, max_size=4, unique=True),
    where=st.sampled_from(
        [
            "",
            "WHERE ticker = 'BBY'",
            "WHERE ticker IN ('AAPL', 'BBY')",
            "WHERE ticker LIKE 'B%'",
            "WHERE volume > 1000000",
            "WHERE ticker <> 'KO'",
            "WHERE date > DATE '2023-01-01'",
        ]
    ),  # fmt: skip
    limit=st.integers(min_value=1, max_value=400),
    order=st.sampled_from(["", "ORDER BY ticker", "ORDER BY date DESC", "ORDER BY 1 DESC"]),
)
def test_public_rows_never_hold_the_restricted_ticker(rt, columns, where, limit, order) -> None:  # noqa: ANN001
    sql = f"SELECT {', '.join(columns)} FROM prices {where} {order} LIMIT {limit}"
    ctx = context_for(rt, rt.user("analyst"))
    try:
        result = call_tool(ctx, "query_features", {"sql": sql})
    finally:
        ctx.close()
    if "error" in result:
        assert result.get("barrier") is True, result
        return
    cells = {str(v).upper() for row in result["rows"] for v in row}
    assert RESTRICTED not in cells


def test_replay_reproduces_a_refusal(rt) -> None:  # noqa: ANN001
    result = answer(rt, "What is the probability of default of BBY?", "analyst")
    replayed = CliRunner().invoke(
        cli, ["trail", "replay", result.id, "--json", "--user", "compliance"]
    )
    assert replayed.exit_code == 0, replayed.output
    report = json.loads(replayed.output)
    assert report["ok"] is True and len(report["calls"]) == 1
