"""The online store: the streaming engine's latest values published for other processes.

``write_online`` snapshots the engine and writes ``latest.json`` atomically; ``read_online`` is
what another process (the agent, ``sightline features online``) reads.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

from features.streaming import StreamingEngine
from features.values import FeatureValue
from ingestion.errors import NotFoundError


def write_online(engine: StreamingEngine, directory: Path) -> Path:
    """Snapshot the engine under ``directory/engine`` and publish ``directory/latest.json``."""
    directory = Path(directory)
    engine.snapshot(directory / "engine")
    payload = {
        "written_at": datetime.now().isoformat(timespec="seconds"),
        "stats": dict(engine.stats),
        "values": engine.online_values(),
    }
    tmp = directory / f".latest.json.{os.getpid()}"
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, directory / "latest.json")
    return directory / "latest.json"


def read_online(directory: Path, entity: str) -> list[FeatureValue]:
    """The published latest values of ``entity`` (what another process, e.g. the agent, reads).

    Raises:
        NotFoundError: Nothing has been published yet.
    """
    path = Path(directory) / "latest.json"
    if not path.exists():
        raise NotFoundError(
            "no online feature values have been published",
            hint="run `sightline features stream` first",
        )
    payload = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for v in payload["values"]:
        if v["entity"] != entity:
            continue
        text = str(v["as_of"])
        as_of: date = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
        out.append(FeatureValue(v["entity"], v["feature"], v["version"], as_of, v["value"]))
    return out
