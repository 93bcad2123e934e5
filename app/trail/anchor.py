"""Anchors: the chain head written to a file for safekeeping, and read back to check against.

An anchor kept outside the data directory (printed, e-mailed, put on WORM storage) turns
"the file is internally consistent" into "the file still holds everything it held then": a
truncated tail or an older restored copy no longer matches it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from app.trail.record import iso_utc, utc_now
from app.trail.store import TrailStore
from ingestion.errors import InputError

ANCHOR_FORMAT = "sightline-trail-anchor/1"


def make_anchor(store: TrailStore, *, by: str) -> dict[str, Any]:
    """The current head as an anchor: ``{format, seq, hash, count, id, created_at, created_by}``."""
    head = store.head()
    return {
        "format": ANCHOR_FORMAT,
        "seq": head.seq,
        "hash": head.hash,
        "count": head.count,
        "id": head.id,
        "created_at": iso_utc(utc_now()),
        "created_by": by,
    }


def write_anchor(anchor: dict[str, Any], path: Path) -> None:
    """Write ``anchor`` as JSON to ``path`` (atomically: a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(anchor, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_anchor(path: Path) -> dict[str, Any]:
    """Read an anchor file; InputError when it is missing or not an anchor."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"no anchor file at {path}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not an anchor file: {exc}") from exc
    if (
        not isinstance(data, dict)
        or data.get("format") != ANCHOR_FORMAT
        or not isinstance(data.get("seq"), int)
        or not isinstance(data.get("hash"), str)
    ):
        raise InputError(
            f"{path} is not a Sightline trail anchor",
            hint="write one with `sightline trail anchor --out FILE`",
        )
    return data
