"""`sightline trail ...`: every command, its JSON output, exit codes and role refusals."""

from __future__ import annotations

import json

from click.testing import CliRunner

from app.cli import cli
from app.trail.review import review_answer
from tests.trail.conftest import make_answer


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def seed(people):  # noqa: ANN001, ANN201
    trail = people.trail
    a = trail.append(make_answer("ana", 1))
    b = trail.append(make_answer("bob", 2, status="refused", versions={"pd_model": "pd@2"}))
    return a, b


def test_verify_and_anchor(people, tmp_path) -> None:
    seed(people)
    code, out, _ = run("trail", "verify", "--user", "carl")
    assert code == 0 and out.startswith("ok: 2 record(s) verified")
    anchor = tmp_path / "anchor.json"
    code, out, _ = run("trail", "anchor", "--out", str(anchor), "--user", "root")
    assert code == 0 and "anchored position 2" in out
    assert json.loads(anchor.read_text())["seq"] == 2
    code, out, _ = run("trail", "verify", "--anchor", str(anchor), "--json", "--user", "carl")
    assert code == 0 and json.loads(out)["anchor"]["ok"] is True
    code, _, err = run("trail", "verify", "--user", "ana")
    assert code == 1 and "may not verify" in err
    bogus = tmp_path / "bogus.json"
    bogus.write_text("{}")
    code, _, err = run("trail", "verify", "--anchor", str(bogus), "--user", "carl")
    assert code == 1 and "not a Sightline trail anchor" in err


def test_list_respects_roles(people) -> None:
    a, b = seed(people)
    code, out, _ = run("trail", "list", "--json", "--user", "ana")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [a.id]
    code, out, _ = run("trail", "list", "--json", "--user", "carl")
    assert [r["id"] for r in json.loads(out)] == [a.id, b.id]
    code, out, _ = run("trail", "list", "--json", "--user", "carl", "--status", "refused")
    assert [r["id"] for r in json.loads(out)] == [b.id]
    code, out, _ = run("trail", "list", "--json", "--user", "carl", "--model", "pd@2")
    assert [r["id"] for r in json.loads(out)] == [b.id]
    code, out, _ = run("trail", "list", "--user", "carl", "--asked-by", "ana", "--from",
                       "2020-01-01", "--to", "2100-01-01")  # fmt: skip
    assert code == 0 and a.id[:12] in out and b.id[:12] not in out
    code, _, err = run("trail", "list", "--user", "ana", "--asked-by", "bob")
    assert code == 1 and "may not read answer records of other users" in err
    code, _, err = run("trail", "list", "--user", "nobody")
    assert code == 1 and "unknown user" in err


def test_show_review_and_follow_ups(people) -> None:
    a, b = seed(people)
    code, out, _ = run("trail", "show", a.id, "--user", "ana")
    assert code == 0 and "What was the 20-day volatility" in out and a.hash in out
    code, _, err = run("trail", "show", b.id, "--user", "ana")
    assert code == 1 and "may not read" in err
    code, out, _ = run(
        "trail", "review", a.id, "--status", "approved", "--note", "figures match", "--user", "carl"
    )
    assert code == 0 and "review" in out
    code, out, _ = run("trail", "show", a.id[:10], "--json", "--user", "carl")
    shown = json.loads(out)
    assert shown["id"] == a.id and shown["follow_ups"][0]["record"]["status"] == "approved"
    code, _, err = run("trail", "review", a.id, "--status", "approved", "--note", "x", "--user",
                       "bob")  # fmt: skip
    assert code == 1 and "may not review" in err
    code, _, err = run("trail", "show", "f" * 32, "--user", "carl")
    assert code == 1 and "no record" in err


def test_export_and_purge(people, tmp_path) -> None:
    seed(people)
    out = tmp_path / "evidence"
    code, text, _ = run("trail", "export", "--out", str(out), "--user", "carl")
    assert code == 0 and "exported 2 record(s) and 2 evidence pack(s)" in text
    assert (out / "manifest.json").exists()
    code, _, err = run("trail", "purge", "--before", "2026-01-01", "--user", "carl")
    assert code == 1 and "retention" in err
    code, _, err = run("trail", "purge", "--before", "2001-01-01", "--user", "ana")
    assert code == 1 and "may not purge" in err
    code, text, _ = run("trail", "purge", "--before", "2001-01-01", "--user", "carl")
    assert code == 0 and "nothing purged" in text


def test_replay_command(people) -> None:
    a, _ = seed(people)
    review = review_answer(people.trail, a.id, reviewer=people.user("carl"), status="approved",
                           note="ok")  # fmt: skip
    code, _, err = run("trail", "replay", a.id, "--user", "bob")
    assert code == 1 and "may not read" in err
    # The real toolbox re-runs the logged risk_metrics call; this data dir holds no prices, so
    # today's output differs from the logged one and the call is named as a mismatch.
    code, out, err = run("trail", "replay", a.id, "--json", "--user", "carl")
    report = json.loads(out)
    assert report["record_id"] == a.id and [c["tool"] for c in report["calls"]] == ["risk_metrics"]
    assert code == 1 and report["ok"] is False and report["calls"][0]["match"] is False
    assert report["calls"][0]["difference"].startswith("result")
    code, _, err = run("trail", "replay", review.id, "--user", "carl")
    assert code == 1 and "no tool calls" in err


def test_kinds_are_listed_filtered_and_replayed(people) -> None:
    from tests.trail.test_record import make_prediction

    a, _ = seed(people)
    # A prediction whose logged output is what the toolbox gives today for this data dir.
    call = {"tool": "default_probability", "args": {"loan_id": 42}}
    from app.agent.toolbox import run_logged_tool

    now = run_logged_tool(people, call["tool"], call["args"], {"pd_model": "pd@2"})
    logged = [call | {"result": now, "started": "2026-03-02T15:30:04Z", "ms": 3.5}]
    p = people.trail.append(make_prediction(user="ana", tool_calls=logged))
    d = people.trail.append(make_answer("ana", 3, kind="digest", question="3M 2018 -> 2022"))
    code, out, _ = run("trail", "list", "--json", "--user", "ana")
    assert [(r["kind"], r["id"]) for r in json.loads(out)] == [
        ("answer", a.id), ("prediction", p.id), ("digest", d.id)
    ]  # fmt: skip
    code, out, _ = run("trail", "list", "--json", "--kind", "prediction", "--user", "carl")
    listed = json.loads(out)
    assert code == 0 and [r["id"] for r in listed] == [p.id]
    assert listed[0]["record"]["feature_values"][0]["sequence"] == 18231
    code, out, _ = run("trail", "list", "--kind", "digest", "--user", "ana")
    assert code == 0 and d.id[:12] in out and "digest" in out and p.id[:12] not in out
    code, _, err = run("trail", "list", "--kind", "gossip", "--user", "ana")
    assert code == 2 and "gossip" in err
    code, out, _ = run("trail", "show", p.id, "--json", "--user", "ana")
    assert json.loads(out)["kind"] == "prediction"
    code, out, _ = run("trail", "replay", p.id, "--user", "ana")
    assert code == 0 and "1. default_probability {'loan_id': 42}: match" in out
    code, out, _ = run("trail", "review", p.id, "--status", "flagged", "--note", "stale features",
                       "--user", "carl")  # fmt: skip
    assert code == 0 and "review" in out


def test_verify_names_a_tampered_record(people) -> None:
    import sqlite3

    a, b = seed(people)
    con = sqlite3.connect(people.trail.path)
    con.execute("DROP TRIGGER records_no_update")
    con.execute("UPDATE records SET body = replace(body, '0.3011', '0.2011') WHERE seq = 1")
    con.commit()
    con.close()
    code, out, err = run("trail", "verify", "--user", "carl")
    assert code == 1 and f"position 1 (id {a.id})" in err and "altered" in err
    code, out, _ = run("trail", "verify", "--json", "--user", "carl")
    assert code == 1 and json.loads(out)["first_break"]["seq"] == 1
