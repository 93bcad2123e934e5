"""Small JSON files that several processes update: an exclusive lock and an atomic, durable write.

The users file and the restricted list are edited by CLI commands while the app reads them. A
writer takes ``locked(path)`` around its read-modify-write, and ``write_atomic`` replaces the
file only once the new content is on disk, so a reader sees the old file or the new one, never half.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (through a ``.lock`` file beside it) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # flock only (no soft-marker fallback a crash could leave behind); the lock file stays.
    with FileLock(
        path.with_suffix(".lock"), mode=0o600, fallback_to_soft=False, preserve_lock_file=True
    ):
        yield


def write_atomic(path: Path, data: Any, *, sort_keys: bool = False) -> None:
    """Write ``data`` as indented JSON to ``path``: temp file, fsync, then rename over the old."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=sort_keys)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
