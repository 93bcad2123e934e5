"""The `sightline` command line: version, users, ingest, db tables, demo, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from app.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert out.startswith("sightline, version ")


def test_users_add_list_and_unknown_user() -> None:
    assert run("users", "add", "dana", "--role", "analyst", "--groups", "public,deal-team")[0] == 0
    code, out, _ = run("users", "list", "--json")
    assert code == 0
    assert json.loads(out) == [
        {
            "name": "dana",
            "role": "analyst",
            "groups": ["public", "deal-team"],
            "created_at": json.loads(out)[0]["created_at"],
        }
    ]
    code, _, err = run("users", "add", "dana", "--role", "analyst")
    assert code == 1 and "already exists" in err
    code, _, err = run("users", "add", "Bad Name", "--role", "analyst")
    assert code == 1 and "invalid user name" in err
    code, _, err = run("users", "add", "eve", "--role", "superuser")
    assert code == 2 and "superuser" in err


def test_ingest_refuses_unknown_user_before_touching_data(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("ticker,date,adj_close\nAAA,2024-01-02,1\n")
    code, _, err = run("ingest", "prices", str(path), "--user", "nobody")
    assert code == 1
    assert "unknown user 'nobody'" in err and "Traceback" not in err
    run("users", "add", "loader", "--role", "researcher")
    code, out, err = run("ingest", "prices", str(path), "--user", "loader")
    assert code == 0, err
    assert "loaded 1 rows" in out
    code, out, _ = run("db", "tables", "--json")
    prices = next(t for t in json.loads(out) if t["name"] == "prices")
    assert prices == {
        "name": "prices",
        "rows": 1,
        "keys": ["ticker", "date"],
        "date_min": "2024-01-02",
        "date_max": "2024-01-02",
    }


def test_bad_file_gives_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    run("users", "add", "loader", "--role", "researcher")
    path = tmp_path / "p.csv"
    path.write_text("ticker,date,adj_close\nAAA,yesterday,1\n")
    code, _, err = run("ingest", "prices", str(path), "--user", "loader")
    assert code == 1
    assert "line 2, column 'date': 'yesterday' is not a date" in err
    assert "Traceback" not in err


def test_bad_setting_is_named(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("SIGHTLINE_LLM", "gpt-please")
    code, _, err = run("users", "list")
    assert code == 1
    assert "SIGHTLINE_LLM" in err


def test_demo_tables_are_listed(demo_home: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("SIGHTLINE_HOME", str(demo_home))
    code, out, _ = run("db", "tables", "--json")
    assert code == 0
    tables = {t["name"]: t for t in json.loads(out)}
    assert {"prices", "fundamentals", "macro", "loans", "positions"} <= set(tables)
    assert tables["prices"]["rows"] >= 150_000
    assert tables["loans"]["rows"] == 1000
    code, out, _ = run("users", "list", "--json")
    roles = {u["role"] for u in json.loads(out)}
    assert roles == {"analyst", "researcher", "compliance", "model_owner", "validator", "admin"}


def test_demo_is_idempotent(demo_runtime) -> None:  # noqa: ANN001
    with demo_runtime.warehouse.reader() as con:
        before = con.execute("SELECT count(*) FROM loads").fetchall()[0][0]
    code, _, err = run("demo")
    assert code == 0, err
    with demo_runtime.warehouse.reader() as con:
        after = con.execute("SELECT count(*) FROM loads").fetchall()[0][0]
        assert con.execute("SELECT count(*) FROM prices").fetchall()[0][0] >= 150_000
    assert after == before
