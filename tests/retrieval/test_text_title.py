"""A plain-text note names itself in its first line: that line is its title (and descriptor)."""

from __future__ import annotations

from pathlib import Path

from ingestion.documents.parsers import parse_file


def _parse(tmp_path: Path, text: str):  # noqa: ANN202
    path = tmp_path / "note.txt"
    path.write_text(text, encoding="utf-8")
    return parse_file(path, "text", max_pages=10)


def test_first_line_followed_by_a_blank_line_is_the_title(tmp_path: Path) -> None:
    parsed = _parse(tmp_path, "Microsoft AI note\n\nAzure revenue growth was driven by AI.\n")
    assert parsed.title == "Microsoft AI note"


def test_running_text_has_no_title(tmp_path: Path) -> None:
    assert _parse(tmp_path, "Azure revenue grew.\nMargins held.\n").title is None
    assert _parse(tmp_path, "x" * 200 + "\n\nbody\n").title is None
