"""`sightline features ...` on the demo data: the issue's done-when check and the other commands."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import date

import numpy as np
import pytest
from click.testing import CliRunner

from app.cli import cli
from features.definitions import all_features, feature


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.mark.slow
def test_materialize_then_get_jpm_point_in_time(demo_runtime) -> None:  # noqa: ANN001
    code, out = run("features", "materialize", "--json")
    assert code == 0, out
    reports = json.loads(out)
    assert {r["feature"] for r in reports} == {d.name for d in all_features()}

    code, out = run("features", "get", "JPM", "--as-of", "2020-03-16", "--json")
    assert code == 0, out
    values = json.loads(out)
    assert all(set(v) == {"feature", "version", "as_of", "value"} for v in values)
    by_name = {v["feature"]: v for v in values}
    for name in ("log_return_1d", "realized_vol_20d", "ewma_vol", "beta_252d"):
        assert by_name[name]["version"] == feature(name).version
        assert by_name[name]["as_of"] == "2020-03-16"
    # Recompute 20-day volatility from the warehouse prices known that day.
    with demo_runtime.warehouse.reader() as con:
        prices = [
            p
            for (p,) in con.execute(
                "SELECT adj_close FROM prices WHERE ticker = 'JPM' AND date <= '2020-03-16' "
                "ORDER BY date DESC LIMIT 21"
            ).fetchall()
        ][::-1]
    returns = np.diff(np.log(prices))
    want = returns.std(ddof=1) * math.sqrt(252)
    assert by_name["realized_vol_20d"]["value"] == pytest.approx(want, rel=1e-9)
    assert all(date.fromisoformat(v["as_of"]) <= date(2020, 3, 16) for v in values)


def test_list_get_history_and_errors(demo_runtime) -> None:  # noqa: ANN001
    code, out = run("features", "list", "--json")
    assert code == 0, out
    listed = json.loads(out)
    assert set(listed[0]) == {
        "name",
        "version",
        "entity_kind",
        "unit",
        "description",
        "fresh_as_of",
    }
    fresh = {row["name"]: row["fresh_as_of"] for row in listed}
    assert fresh["log_return_1d"] == "2022-12-28"  # the demo step materialized everything
    assert fresh["quoted_spread_bps"] is None  # no quotes ship with the demo

    code, out = run("features", "get", "US", "--as-of", "2009-01-15", "--json")
    assert code == 0, out
    assert {v["feature"] for v in json.loads(out)} == {"credit_spread_baa_aaa", "term_spread"}

    code, out = run("features", "history", "MSFT", "leverage", "--end", "2023-12-31", "--json")
    assert code == 0, out
    history = json.loads(out)
    assert [h["as_of"] for h in history] == sorted(h["as_of"] for h in history)
    assert len(history) >= 2

    code, out = run("features", "get", "NOPE", "--json")
    assert code == 1
    assert "error: no feature values for 'NOPE'" in out
    code, out = run("features", "get", "JPM", "--name", "volatility")
    assert code == 1
    assert "unknown feature 'volatility'" in out


@pytest.mark.slow
def test_stream_publishes_an_online_store_another_process_reads(demo_runtime) -> None:  # noqa: ANN001
    code, out = run(
        "features",
        "stream",
        "--ticker",
        "JPM",
        "--ticker",
        "^GSPC",
        "--start",
        "2019-01-01",
        "--synthetic-quotes",
        "2000",
        "--json",
    )
    assert code == 0, out
    summary = json.loads(out[out.index("{") :])
    assert summary["events"]["accepted"] > 1000
    reader = subprocess.run(
        [sys.executable, "-m", "app.cli", "features", "online", "JPM", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    online = {v["feature"]: v for v in json.loads(reader.stdout)}
    code, out = run("features", "get", "JPM", "--json")
    batch = {v["feature"]: v for v in json.loads(out)}
    for name in ("log_return_1d", "realized_vol_20d", "realized_vol_60d", "beta_252d"):
        assert online[name]["as_of"] == batch[name]["as_of"] == "2022-12-28"
        assert online[name]["value"] == pytest.approx(batch[name]["value"], rel=1e-9)
