"""Where runs live: ``$SIGHTLINE_HOME/evals/RUN_ID/`` (run.json, report.html) or ``--report``."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from evals.harness.model import Run
from ingestion.errors import InputError, NotFoundError

RUN_FILE = "run.json"
REPORT_FILE = "report.html"


def runs_dir(home: Path) -> Path:
    """The folder holding every stored run of a data dir."""
    return Path(home) / "evals"


def new_run_id(llm: str, now: datetime | None = None) -> str:
    """A sortable id that names the model: ``20261128T201500Z-openai-gpt-4o-mini``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", llm).strip("-").lower() or "offline"
    return f"{stamp}-{slug}"


def save_run(run: Run, directory: Path) -> Path:
    """Write ``run.json`` and ``report.html`` into ``directory``; returns the report path."""
    from evals.harness.report import render_report

    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / (RUN_FILE + ".tmp")
    tmp.write_text(json.dumps(run.as_dict(), indent=2, default=str), encoding="utf-8")
    tmp.replace(directory / RUN_FILE)  # a half-written run.json never replaces a good one
    report = directory / REPORT_FILE
    report.write_text(render_report(run), encoding="utf-8")
    return report


def load_run(ref: str | Path, home: Path) -> Run:
    """A stored run by id (under the data dir), folder, or ``run.json`` path.

    Raises:
        NotFoundError: nothing stored under that name.
        InputError: the file is not a run.
    """
    candidates = [Path(ref), Path(ref) / RUN_FILE, runs_dir(home) / str(ref) / RUN_FILE]
    for path in candidates:
        if path.is_file():
            try:
                return Run.from_dict(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"{path} is not an eval run: {exc}", hint="pass a run id or a run.json"
                ) from exc
    known = list_runs(home)
    hint = f"stored runs: {', '.join(known[-5:])}" if known else "run `sightline eval` first"
    raise NotFoundError(f"no eval run {str(ref)!r}", hint=hint)


def list_runs(home: Path) -> list[str]:
    """Ids of the runs stored in the data dir, oldest first."""
    base = runs_dir(home)
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / RUN_FILE).is_file())
