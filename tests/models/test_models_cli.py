"""`sightline models ...` end to end on the demo data: list, train, validate, approve, history."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.cli import cli

pytestmark = pytest.mark.slow  # trains models on the demo data


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_list_json_shows_the_demo_approvals(models_rt) -> None:  # noqa: ANN001
    code, out, _ = run("models", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert {r["name"] for r in rows} == {"risk", "pd"}
    for row in rows:
        assert set(row) == {"name", "version", "status", "registered_by", "approved_by",
                            "approved_at"}  # fmt: skip
        assert row["status"] == "approved"
        assert row["registered_by"] == "model_owner" and row["approved_by"] == "validator"


def test_train_validate_approve_history_and_backtest(models_rt) -> None:  # noqa: ANN001
    code, _, err = run("models", "train", "pd", "--user", "analyst")
    assert code == 1 and "may not register" in err
    # Same code and data: training again gives the approved version back (reproducible).
    code, out, _ = run("models", "train", "pd", "--user", "model_owner", "--json")
    assert code == 0
    trained = json.loads(out)
    assert trained["created"] is False and trained["status"] == "approved"
    assert trained["metrics"]["auc"] >= 0.75

    ref = f"pd@{trained['version']}"
    code, _, err = run("models", "retire", ref, "--user", "validator", "--note", "test")
    assert code == 0
    code, _, err = run("models", "approve", ref, "--user", "validator")
    assert code == 1 and "retired; it cannot become approved" in err

    code, out, _ = run("models", "history", "pd", "--json")
    steps = [(t["to_status"], t["by"]) for t in json.loads(out)]
    assert steps == [("draft", "model_owner"), ("validated", "validator"),
                     ("approved", "validator"), ("retired", "validator")]  # fmt: skip
    approved_at = json.loads(out)[2]["at"]
    code, out, _ = run("models", "history", "pd", "--on", approved_at, "--json")
    assert json.loads(out)["version"] == trained["version"]
    code, out, _ = run("models", "history", "pd", "--on", "2000-01-01", "--json")
    assert json.loads(out)["version"] is None
    code, _, err = run("models", "history", "pd", "--on", "yesterday")
    assert code == 1 and "not a date" in err

    risk = next(r for r in json.loads(run("models", "list", "--json")[1]) if r["name"] == "risk")
    code, out, _ = run("models", "backtest", f"risk@{risk['version']}", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["start"].startswith("1999-01") and report["end"].startswith("2018-12")
    row = next(r for r in report["results"]
               if r["method"] == "student_t_ewma" and r["confidence"] == 0.99)  # fmt: skip
    assert row["observations"] > 5000 and row["exceptions_2008"] > 0
    assert 0 <= row["kupiec_p"] <= 1 and 0 <= row["christoffersen_p"] <= 1
    code, out, _ = run("models", "backtest", f"risk@{risk['version']}")
    assert code == 0 and "Kupiec" in out


def test_validate_refuses_the_maker(models_rt) -> None:  # noqa: ANN001
    from tools.credit import train_pd

    with models_rt.warehouse.reader() as con:
        trained = train_pd(con, {"numeric_bins": 4})
    mv, _ = models_rt.registry.register(trained, user="model_owner", role="model_owner")
    code, _, err = run("models", "validate", mv.ref, "--user", "model_owner")
    assert code == 1 and "only a validator" in err
    models_rt.users.add("val2", "validator")
    code, out, err = run("models", "validate", mv.ref, "--user", "val2")
    assert code == 0, err
    assert "pass reproducible" in out
    code, out, _ = run("models", "approve", mv.ref, "--user", "val2")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(run("models", "list", "--json")[1])
            if r["status"] == "approved"}  # fmt: skip
    assert rows["pd"]["version"] == mv.version and rows["pd"]["approved_by"] == "val2"
    code, _, err = run("models", "validate", "pd@nothex", "--user", "val2")
    assert code == 1 and "not a model reference" in err
