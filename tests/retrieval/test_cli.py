"""The document commands through the real CLI (click runner, real data dir, real Chroma)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from tests.retrieval.conftest import write

pytestmark = pytest.mark.slow


def run(*args: str) -> tuple[int, str]:
    """Exit code and stdout (with stderr appended when the command failed)."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def test_upload_search_list_delete_and_events(runtime, tmp_path: Path) -> None:  # noqa: ANN001
    runtime.users.ensure_demo_users()
    note = write(tmp_path / "acme_note.md", "# Acme\nAcme's gross margin widened to 41.2%.\n")
    memo = write(tmp_path / "falcon.md", "# Falcon\nThe Falcon bridge loan is USD 900 million.\n")
    code, out = run(
        "ingest",
        "docs",
        str(note),
        "--groups",
        "public",
        "--issuer",
        "ACME",
        "--doc-date",
        "2024-01-31",
        "--user",
        "researcher",
        "--json",
    )
    assert code == 0, out
    (row,) = json.loads(out)
    assert row["status"] == "indexed" and row["doc_name"] == "acme_note"
    code, out = run("ingest", "docs", str(memo), "--groups", "deal-team", "--user", "researcher")
    assert code == 0 and "indexed" in out

    code, out = run("search", "gross margin", "--json", "--user", "analyst", "--k", "3")
    hits = json.loads(out)
    assert code == 0 and hits
    assert set(hits[0]) == {
        "doc_id",
        "doc_name",
        "title",
        "page_start",
        "page_end",
        "score",
        "text",
    }
    assert {h["doc_name"] for h in hits} == {"acme_note"}  # the analyst cannot see the memo
    code, out = run(
        "search", "bridge loan", "--json", "--user", "analyst_private", "--doc", "falcon"
    )
    assert {h["doc_name"] for h in json.loads(out)} == {"falcon"}

    code, out = run("docs", "list", "--json", "--user", "analyst")
    assert [d["doc_name"] for d in json.loads(out)] == ["acme_note"]
    code, out = run("docs", "list", "--user", "compliance")
    assert "falcon" in out and "acme_note" in out

    code, out = run("docs", "delete", row["doc_id"][:12], "--user", "researcher")
    assert code == 0 and "deleted" in out
    code, out = run("search", "gross margin", "--json", "--user", "analyst")
    assert json.loads(out) == []
    code, out = run("docs", "events", "--json", "--user", "compliance")
    actions = [(e["action"], e["actor"]) for e in json.loads(out)]
    assert actions[0] == ("delete", "researcher") and ("upload", "researcher") in actions


def test_permissions_and_bad_input(runtime, tmp_path: Path) -> None:  # noqa: ANN001
    runtime.users.ensure_demo_users()
    note = write(tmp_path / "n.md", "Some research text about margins.\n")
    code, out = run("ingest", "docs", str(note), "--groups", "public", "--user", "analyst")
    assert code == 1 and "may not manage documents" in out
    code, out = run("ingest", "docs", str(note), "--groups", "risk", "--user", "researcher")
    assert code == 1 and "not in group" in out
    code, out = run("ingest", "docs", str(note), "--user", "researcher")
    assert code == 2  # --groups is required
    code, out = run("ingest", "docs", str(note), "--groups", " , ", "--user", "researcher")
    assert code == 1 and "access group" in out
    bad = tmp_path / "fake.pdf"
    bad.write_bytes(b"\x7fELF not a pdf")
    code, out = run("ingest", "docs", str(bad), "--groups", "public", "--user", "researcher")
    assert code == 1 and "quarantined" in out and "Traceback" not in out
    code, out = run("docs", "quarantine", "--json", "--user", "researcher")
    assert json.loads(out)[0]["reason"] == "bad_type"
    code, out = run("docs", "delete", "ffffffffffff", "--user", "researcher")
    assert code == 1 and "no document" in out
    code, out = run("search", "margins", "--user", "nobody")
    assert code == 1
