"""Export: records as JSONL, one evidence pack per answer, and a manifest of every file's sha256.

The export is written to a temporary folder next to ``out`` and renamed into place at the end,
so a folder named ``out`` is always complete. It can be checked with ``sha256sum -c SHA256SUMS``
and every record's hash recomputed from ``records.jsonl`` alone (docs/trail.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from app.trail.access import Actor, check_read, reads_everyone
from app.trail.evidence import render_evidence
from app.trail.record import day_end_iso, day_start_iso, iso_utc, utc_now
from app.trail.store import StoredRecord, TrailQuery, TrailStore
from ingestion.errors import InputError

MANIFEST_FORMAT = "sightline-trail-export/1"
# Kinds with an evidence pack of their own (a review or correction is shown in the one it is about).
EVIDENCE_KINDS = ("answer", "digest", "prediction")


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote: the folder, record and evidence-pack counts, chain check."""

    out: Path
    records: int
    evidence_packs: int
    chain_ok: bool
    manifest: dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def _closing(iterator: Iterator[Any]) -> Iterator[None]:
    """End a (generator) iterator even when we stop early, so its snapshot is released."""
    try:
        yield
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _write_records(
    store: TrailStore,
    tmp: Path,
    through_seq: int,
    asked_by: str | None,
    low: str | None,
    high: str | None,
) -> tuple[int, int]:
    """Stream the selected records up to ``through_seq`` into ``tmp``; (records, packs)."""
    count = packs = 0
    records = store.scan()  # streamed: a large trail is never all in memory
    with open(tmp / "records.jsonl", "w", encoding="utf-8") as jsonl, _closing(records):
        for stored in records:
            if stored.seq > through_seq:
                break
            r = stored.record
            when = str(r.get("time", ""))
            if asked_by is not None and r.get("user") != asked_by:
                continue
            if (low and when < low) or (high and when >= high):
                continue
            jsonl.write(json.dumps(stored.to_json(), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
            if r.get("kind") in EVIDENCE_KINDS:
                # Follow-ups of a readable answer are readable: they are about that answer.
                follow = store.read(TrailQuery(refers_to=stored.id))
                _write(tmp / "evidence" / f"{stored.id}.html", render_evidence(stored, follow))
                packs += 1
        jsonl.flush()
        os.fsync(jsonl.fileno())
    return count, packs


def _write_manifest(tmp: Path, fields: dict[str, Any]) -> dict[str, Any]:
    """Write ``manifest.json`` (``fields`` plus every file's sha256) and ``SHA256SUMS``."""
    files: list[dict[str, Any]] = [
        {"path": p.relative_to(tmp).as_posix(), "sha256": _sha256(p), "bytes": p.stat().st_size}
        for p in sorted(tmp.rglob("*"))
        if p.is_file()
    ]
    manifest = {"format": MANIFEST_FORMAT, **fields, "files": files}
    _write(tmp / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    sums = [*files, {"path": "manifest.json", "sha256": _sha256(tmp / "manifest.json")}]
    _write(tmp / "SHA256SUMS", "".join(f"{f['sha256']}  {f['path']}\n" for f in sums))
    return manifest


def export_trail(
    store: TrailStore,
    out: Path,
    *,
    viewer: Actor,
    start: date | None = None,
    end: date | None = None,
    asked_by: str | None = None,
) -> ExportReport:
    """Export the records in [start, end] that ``viewer`` may read into the new folder ``out``.

    Non-compliance users export only their own records. Reviews and corrections of an exported
    answer appear in its evidence pack even when they fall outside the dates.

    Raises:
        InputError: ``out`` exists and is not empty.
        PermissionDenied: ``asked_by`` names another user and the viewer is not compliance.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} already exists", hint="choose a new folder for the export")
    if asked_by is not None:
        check_read(viewer, asked_by)
    elif not reads_everyone(viewer):
        asked_by = viewer.name
    # Export exactly what was verified: records appended after the check are left out.
    check = store.verify()
    low = day_start_iso(start) if start else None
    high = day_end_iso(end) if end else None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "evidence").mkdir()
        count, packs = _write_records(store, tmp, check.head.seq, asked_by, low, high)
        manifest = _write_manifest(
            tmp,
            {
                "created_at": iso_utc(utc_now()),
                "created_by": viewer.name,
                "filters": {
                    "from": start.isoformat() if start else None,
                    "to": end.isoformat() if end else None,
                    "asked_by": asked_by,
                },
                "records": count,
                "evidence_packs": packs,
                "chain": check.to_json(),
            },
        )
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportReport(
        out=out, records=count, evidence_packs=packs, chain_ok=check.ok, manifest=manifest
    )


def recompute_hash(line: dict[str, Any]) -> str:
    """The hash of one ``records.jsonl`` line, recomputed from its content alone."""
    from app.trail.chain import chain_hash
    from app.trail.record import canonical_json

    stored = StoredRecord(
        seq=line["seq"],
        id=line["id"],
        hash=line["hash"],
        prev_hash=line["prev_hash"],
        appended_at=line["appended_at"],
        record=line["record"],
    )
    return chain_hash(stored.prev_hash, canonical_json(stored.body()))
