"""Every CLI command and every setting is documented (README.md or docs/*.md)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from app.cli import cli
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def documentation() -> str:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(p.read_text(encoding="utf-8") for p in pages if p.exists())


def command_paths(group: click.Group, prefix: str = "sightline") -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, path))
        else:
            paths.append(path)
    return paths


@pytest.mark.parametrize("command", command_paths(cli))
def test_cli_command_is_documented(command: str) -> None:
    assert command in documentation(), f"`{command}` is not mentioned in README.md or docs/"


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_setting_is_documented(field: str) -> None:
    env = f"SIGHTLINE_{field.upper()}"
    assert env in documentation(), f"{env} is not documented in README.md or docs/"
    assert Settings.model_fields[field].description, f"{field} has no help text"
