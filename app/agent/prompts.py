"""Versioned prompt files: id and version in the front matter; answers log id@version:hash.

The files live in ``app/agent/prompts/``; editing one changes its hash, so the answer trail shows
exactly which wording produced an answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROMPT_DIR = Path(__file__).resolve().parent / "prompts"


@dataclass(frozen=True)
class Prompt:
    """A prompt file: id, version, text (front matter removed) and sha256 of the whole file."""

    id: str
    version: str
    text: str
    sha256: str

    @property
    def ref(self) -> str:
        """``id@version:hash12``, as logged in the answer record."""
        return f"{self.id}@{self.version}:{self.sha256[:12]}"


@cache
def load_prompt(name: str) -> Prompt:
    """The prompt ``name`` (file stem in the prompts folder)."""
    raw = (PROMPT_DIR / f"{name}.md").read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    body = raw
    if raw.startswith("---\n"):
        head, _, body = raw[4:].partition("\n---\n")
        for line in head.splitlines():
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
    return Prompt(
        id=meta.get("id", name),
        version=meta.get("version", "0"),
        text=body.strip(),
        sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
    )


def prompt_versions(names: tuple[str, ...] = ("system", "answer_repair")) -> str:
    """The refs of the prompts an LLM answer used, joined (the record's ``versions.prompt``)."""
    return ",".join(load_prompt(n).ref for n in names)
