"""Live feature values for the service: the feature service's online store, re-read on change."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

# source of a feature -> the stream whose sequence its live value covers
STREAM_OF_SOURCE = {"quotes": "QUOTES", "bars": "BARS"}


class LiveFeatures:
    """``online/latest.json`` (written by ``sightline features serve``), cached by mtime."""

    def __init__(self, path: Path) -> None:
        """Read ``path`` lazily; an absent file means no live values yet."""
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_entity: dict[str, list[dict[str, Any]]] = {}
        self._sequence: dict[str, int] = {}

    def _load(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._by_entity, self._sequence = None, {}, {}
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        payload = json.loads(self.path.read_text(encoding="utf-8"))
        by_entity: dict[str, list[dict[str, Any]]] = {}
        for v in payload.get("values", []):
            by_entity.setdefault(v["entity"], []).append(v)
        self._stamp, self._by_entity = stamp, by_entity
        self._sequence = {k: int(v) for k, v in (payload.get("sequence") or {}).items()}

    def values(self, entity: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The live values of ``entity``, each with the ``sequence`` of the stream it covers."""
        from features.definitions import select

        with self._lock:
            self._load()
            rows, sequence = list(self._by_entity.get(entity, [])), dict(self._sequence)
        source = {d.name: d.source for d in select(None)}
        out = []
        for v in rows:
            stream = STREAM_OF_SOURCE.get(source.get(v["feature"], ""))
            seq = sequence.get(stream) if stream else None
            out.append(v | {"sequence": seq, "live": True})
        return out, sequence
