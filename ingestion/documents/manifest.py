"""Document manifests: a JSON list of files with their metadata, for bulk and demo uploads.

Each entry: ``file`` (relative to the manifest), ``access_groups`` (required, non-empty), and
optionally ``title``, ``issuer``, ``doc_date`` (YYYY-MM-DD), ``doc_type``. Other fields (source,
pages_kept, ...) are provenance for people and are ignored here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import InputError

DEMO_MANIFEST = Path(__file__).resolve().parents[1] / "demo_data" / "documents" / "manifest.json"


@dataclass(frozen=True)
class ManifestEntry:
    """One file to upload and its metadata."""

    path: Path
    access_groups: tuple[str, ...]
    title: str | None = None
    issuer: str | None = None
    doc_date: str | None = None
    doc_type: str | None = None


def read_manifest(path: Path) -> list[ManifestEntry]:
    """Parse a manifest file; every entry must name a file and at least one access group."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read manifest {path}: {exc}") from exc
    if not isinstance(raw, list):
        raise InputError(f"manifest {path} must be a JSON list of entries")
    entries = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not item.get("file"):
            raise InputError(f"manifest {path}: entry {number} has no 'file'")
        groups = item.get("access_groups") or []
        if not groups:
            raise InputError(f"manifest {path}: {item['file']} has no access_groups")
        entries.append(
            ManifestEntry(
                path=Path(path).parent / str(item["file"]),
                access_groups=tuple(str(g) for g in groups),
                title=item.get("title"),
                issuer=item.get("issuer"),
                doc_date=item.get("doc_date"),
                doc_type=item.get("doc_type"),
            )
        )
    return entries
