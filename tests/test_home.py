"""The data directory is private: created 0700 with 0600 files, refused when others can reach it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.runtime import Runtime
from app.settings import Settings
from ingestion.errors import ConfigError

# One process started with the usual umask 022, as a shell would start it; every command goes
# through the CLI entry point, which must make everything it writes owner-only by itself.
WRITE_EVERYTHING = textwrap.dedent(
    """
    import sys
    from app.cli import cli
    home, prices, note = sys.argv[1:4]
    for args in (
        ["users", "add", "res", "--role", "researcher"],
        ["users", "add", "ana", "--role", "analyst"],
        ["ingest", "prices", prices, "--user", "res"],
        ["ingest", "docs", note, "--groups", "public", "--user", "res"],
        ["ask", "What is the latest price of TX?", "--user", "ana"],
    ):
        cli.main(args, prog_name="sightline", standalone_mode=False)
    """
)


def open_to_others(root: Path) -> list[str]:
    """Paths under ``root`` (and ``root``) with any group or other permission bit set."""
    paths = [root, *root.rglob("*")]
    return [
        f"{stat.S_IMODE(p.lstat().st_mode):04o} {p}" for p in paths if p.lstat().st_mode & 0o077
    ]


@pytest.mark.slow
def test_a_fresh_home_is_0700_and_everything_written_in_it_is_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "fresh" / "home"
    prices = tmp_path / "p.csv"
    prices.write_text("ticker,date,adj_close\nTX,2020-01-01,10\nTX,2020-01-02,11\n")
    note = tmp_path / "note.txt"
    note.write_text("Revenue rose on cloud services.\n\nMore text about cloud revenue.\n")
    env = {**os.environ, "SIGHTLINE_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", WRITE_EVERYTHING, str(home), str(prices), str(note)],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(0o022),  # noqa: PLW1509
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    written = {p.relative_to(home).parts[0] for p in home.rglob("*")}
    assert {"warehouse.duckdb", "users.json", "trail.sqlite", "chroma", "documents"} <= written
    assert open_to_others(home) == []


def test_a_home_open_to_others_is_refused_with_the_chmod_to_run(tmp_path: Path) -> None:
    home = tmp_path / "old-home"
    home.mkdir()
    home.chmod(0o755)  # what an older Sightline created
    with pytest.raises(ConfigError) as refused:
        Runtime(Settings(home=home))
    assert "permissions 0755" in str(refused.value) and "too open" in str(refused.value)
    assert refused.value.hint is not None
    assert f"chmod -R go-rwx {home.resolve()}" in refused.value.hint
    assert "SIGHTLINE_ALLOW_SHARED_HOME" in refused.value.hint


def test_the_cli_refuses_it_with_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / "old-home"
    home.mkdir()
    home.chmod(0o750)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "users", "list"],
        env={**os.environ, "SIGHTLINE_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: permissions 0750"), done.stderr
    assert f"chmod -R go-rwx {home.resolve()}" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_fix_in_the_hint_works(tmp_path: Path) -> None:
    home = tmp_path / "old-home"
    home.mkdir()
    (home / "users.json").write_text("{}")
    home.chmod(0o755)
    subprocess.run(["chmod", "-R", "go-rwx", str(home)], check=True)
    Runtime(Settings(home=home))  # accepted now
    assert open_to_others(home) == []


def test_the_setting_allows_a_shared_home(tmp_path: Path) -> None:
    home = tmp_path / "shared"
    home.mkdir()
    home.chmod(0o775)
    rt = Runtime(Settings(home=home, allow_shared_home=True))
    rt.users.add("ana", "analyst")
    assert rt.user("ana").role == "analyst"
    assert stat.S_IMODE(home.stat().st_mode) == 0o775  # left as the deployment set it


def test_a_missing_home_is_created_0700_even_under_an_open_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        Runtime(Settings(home=tmp_path / "new" / "home"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new" / "home").stat().st_mode) == 0o700


def test_a_file_where_the_home_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "home-file").write_text("")
    with pytest.raises(ConfigError, match="cannot create the data directory"):
        Runtime(Settings(home=tmp_path / "home-file"))
