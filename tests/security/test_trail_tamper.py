"""Tampering with the answer trail is caught (SECURITY.md rows 1-3 and 21).

An attacker here has the file: they drop the append-only triggers or edit bytes on disk. Verify
must exit non-zero naming the first bad record; an anchor kept elsewhere catches a truncated tail,
an older restored copy and a fully re-hashed forgery.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.trail.anchor import make_anchor, write_anchor
from app.trail.chain import chain_hash
from app.trail.record import canonical_json
from ingestion.errors import PermissionDenied
from tests.trail.conftest import add_people, make_answer


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def filled(runtime):  # noqa: ANN001, ANN201
    """A runtime with users whose trail holds 20 answers (each with a unique marker)."""
    people = add_people(runtime)
    ids = [
        people.trail.append(make_answer("ana", i, answer=f"MARKER-{i:03d} volatility 0.{i:02d}")).id
        for i in range(1, 21)
    ]
    return people, ids


def raw(path: Path) -> sqlite3.Connection:
    """The attacker's own connection, with the append-only triggers dropped."""
    con = sqlite3.connect(path, isolation_level=None)
    for name in ("records_no_update", "records_no_delete", "records_extend_head"):
        con.execute(f"DROP TRIGGER {name}")
    return con


def verify_cli(*extra: str) -> tuple[int, str]:
    code, _, err = run("trail", "verify", "--user", "carl", *extra)
    return code, err


def test_flip_one_byte_on_disk_names_the_record(filled) -> None:
    rt, ids = filled
    path = rt.trail.path
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # move every record into the main file
    con.close()
    data = bytearray(path.read_bytes())
    where = data.find(b"MARKER-007 volatility 0.07")
    assert where > 0
    data[where + len("MARKER-007 volatility 0.0")] ^= 0x01  # '7' -> '6'
    path.write_bytes(bytes(data))
    code, err = verify_cli()
    assert code == 1
    assert f"position 7 (id {ids[6]})" in err and "altered" in err


def test_delete_record_n_is_named(filled) -> None:
    rt, ids = filled
    con = raw(rt.trail.path)
    con.execute("DELETE FROM records WHERE seq = 12")
    con.close()
    code, err = verify_cli()
    assert code == 1 and "position 12" in err and "missing" in err


def test_delete_and_renumber_is_still_caught(filled) -> None:
    rt, _ = filled
    con = raw(rt.trail.path)
    con.execute("DELETE FROM records WHERE seq = 12")
    rows = con.execute("SELECT seq, body, prev_hash, hash FROM records WHERE seq > 12").fetchall()
    con.execute("DELETE FROM records WHERE seq > 12")
    for seq, body, prev, digest in rows:
        con.execute("INSERT INTO records VALUES (?, ?, ?, ?)", (seq - 1, body, prev, digest))
    con.close()
    code, err = verify_cli()
    assert code == 1 and "position 12" in err


def test_swap_two_records_is_named(filled) -> None:
    rt, _ = filled
    con = raw(rt.trail.path)
    con.execute("UPDATE records SET seq = -9 WHERE seq = 9")  # records 5 and 9 change places
    con.execute("UPDATE records SET seq = 9 WHERE seq = 5")
    con.execute("UPDATE records SET seq = 5 WHERE seq = -9")
    con.close()
    code, err = verify_cli()
    assert code == 1 and "position 5" in err


def test_truncated_tail_is_caught_by_the_anchor(filled, tmp_path) -> None:
    rt, _ = filled
    anchor = tmp_path / "anchor.json"
    assert run("trail", "anchor", "--out", str(anchor), "--user", "carl")[0] == 0
    con = raw(rt.trail.path)
    con.execute("DELETE FROM records WHERE seq > 10")
    con.close()
    assert verify_cli()[0] == 0  # the shorter chain is internally consistent ...
    code, err = verify_cli("--anchor", str(anchor))  # ... but not what was anchored
    assert code == 1 and "ends at position 10" in err and "position 20" in err


def test_restored_older_copy_is_caught_by_the_anchor(filled, tmp_path) -> None:
    rt, _ = filled
    path = rt.trail.path
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    backup = tmp_path / "old.sqlite"
    shutil.copy(path, backup)
    for i in range(21, 26):
        rt.trail.append(make_answer("ana", i))
    anchor = tmp_path / "anchor.json"
    write_anchor(make_anchor(rt.trail, by="carl"), anchor)
    rt.trail.close()  # the app is stopped while the old copy is put back
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.copy(backup, path)
    code, err = verify_cli("--anchor", str(anchor))
    assert code == 1 and "older copy" in err


def test_fully_rehashed_forgery_is_caught_by_the_anchor(filled, tmp_path) -> None:
    rt, _ = filled
    anchor = make_anchor(rt.trail, by="carl")
    (tmp_path / "a.json").write_text(json.dumps(anchor))
    con = raw(rt.trail.path)
    rows = con.execute("SELECT seq, body FROM records ORDER BY seq").fetchall()
    prev = "0" * 64
    for seq, body in rows:  # rewrite answer 3 and re-hash everything after it, consistently
        data = json.loads(body)
        if seq == 3:
            data["answer"] = "a different figure: 0.99"
        new_body = canonical_json(data)
        digest = chain_hash(prev, new_body)
        con.execute(
            "UPDATE records SET body=?, prev_hash=?, hash=? WHERE seq=?",
            (new_body.decode(), prev, digest, seq),
        )
        prev = digest
    con.close()
    assert verify_cli()[0] == 0
    code, err = verify_cli("--anchor", str(tmp_path / "a.json"))
    assert code == 1 and "does not have the anchored hash" in err


def test_prefix_removed_with_a_forged_purge_is_caught(filled) -> None:
    rt, _ = filled
    con = raw(rt.trail.path)
    through = con.execute("SELECT hash FROM records WHERE seq = 5").fetchone()[0]
    con.execute(
        "INSERT INTO purges VALUES (5, ?, '2010-01-01', '2026-01-01T00:00:00Z', 'mallory', 'x')",
        (through,),
    )
    con.execute("DELETE FROM records WHERE seq <= 5")
    con.close()
    code, err = verify_cli()
    assert code == 1 and "no purge event" in err


def test_store_api_refuses_edits(filled) -> None:
    rt, ids = filled
    con = sqlite3.connect(rt.trail.path)
    for sql in (
        "UPDATE records SET body = replace(body, 'MARKER', 'EDITED')",
        f"DELETE FROM records WHERE id = '{ids[0]}'",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    con.close()
    assert not hasattr(rt.trail, "update") and not hasattr(rt.trail, "delete")
    assert verify_cli()[0] == 0


def test_only_compliance_reads_other_users_records(filled, tmp_path) -> None:
    rt, ids = filled
    for args in (
        ("show", ids[0]),
        ("replay", ids[0]),
        ("list", "--asked-by", "ana"),
        ("export", "--out", str(tmp_path / "x"), "--asked-by", "ana"),
    ):
        code, _, err = run("trail", *args, "--user", "bob")
        assert code == 1 and "may not read answer records of other users" in err, args
    assert not (tmp_path / "x").exists()
    code, out, _ = run("trail", "list", "--json", "--user", "bob")
    assert code == 0 and json.loads(out) == []  # bob sees only his own: none
    for args in (("verify",), ("purge", "--before", "2001-01-01")):
        code, _, err = run("trail", *args, "--user", "bob")
        assert code == 1 and "may not" in err
    code, out, _ = run("trail", "show", ids[0], "--json", "--user", "carl")
    assert code == 0 and json.loads(out)["id"] == ids[0]
    with pytest.raises(PermissionDenied):
        from app.trail.review import review_answer

        review_answer(rt.trail, ids[0], reviewer=rt.user("bob"), status="approved", note="x")
