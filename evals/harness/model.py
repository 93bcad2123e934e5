"""What a suite receives (``EvalContext``) and returns (``SuiteResult``), and one whole ``Run``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Say = Callable[[str], None]

# A suite's outcome: measured ("ok"), cannot run yet ("unavailable": a backend has not landed),
# nothing to measure here ("skipped": e.g. the benchmark data is absent), or it crashed ("error").
STATUSES = ("ok", "unavailable", "skipped", "error")


@dataclass
class EvalContext:
    """Everything a suite needs: the runtime under test, the LLM backend and a scratch folder.

    Attributes:
        rt: an ``app.runtime.Runtime`` over the data dir being evaluated (suites must not change
            it; a suite that needs to ingest copies it into ``workdir`` first).
        llm: the ``SIGHTLINE_LLM`` string the run is scored for (``offline`` or ``openai:MODEL``).
        workdir: a private scratch folder for this suite.
        say: progress messages (stderr in the CLI).
        options: suite options from the command line (e.g. ``retrieval_subset``).
    """

    rt: Any
    llm: str
    workdir: Path
    say: Say = lambda _msg: None  # noqa: E731 - a default no-op callback
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class SuiteResult:
    """One suite's scores.

    Attributes:
        status: one of ``STATUSES``.
        message: why a suite is unavailable or skipped, or a one-line summary.
        metrics: flat name -> number (None when not measurable in this run).
        cases: one dict per scored case (id, passed, what was expected and got) for the report.
        charts: data for the report's charts: ``per_intent`` {intent: accuracy},
            ``recall_at_k`` {series: {k: recall}}, ``latency_ms`` [floats],
            ``tokens`` [ints per answer], ``cost_usd`` [floats per answer].
        seconds: wall time the suite took.
    """

    status: str = "ok"
    message: str = ""
    metrics: dict[str, float | int | None] = field(default_factory=dict)
    cases: list[dict[str, Any]] = field(default_factory=list)
    charts: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown suite status {self.status!r}")

    @classmethod
    def unavailable(cls, message: str) -> SuiteResult:
        """A suite whose backend is not there yet (says which issue will bring it)."""
        return cls(status="unavailable", message=message)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form stored in ``run.json``."""
        return {
            "status": self.status,
            "message": self.message,
            "metrics": self.metrics,
            "charts": self.charts,
            "cases": self.cases,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SuiteResult:
        """Inverse of :meth:`as_dict`."""
        return cls(
            status=data.get("status", "ok"),
            message=data.get("message", ""),
            metrics=dict(data.get("metrics", {})),
            cases=list(data.get("cases", [])),
            charts=dict(data.get("charts", {})),
            seconds=float(data.get("seconds", 0.0)),
        )


@dataclass
class Run:
    """One evaluation run: when, against what, with which model, and every suite's result."""

    run_id: str
    started: str
    finished: str
    llm: str
    model: str
    home: str
    versions: dict[str, Any]
    suites: dict[str, SuiteResult]
    gate: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        """The ``--json`` shape: {"suites": {SUITE: {METRIC: value, ...}}} plus run identity."""
        suites: dict[str, dict[str, Any]] = {}
        for name, result in self.suites.items():
            entry: dict[str, Any] = dict(result.metrics)
            entry["status"] = result.status
            if result.message:
                entry["message"] = result.message
            suites[name] = entry
        out: dict[str, Any] = {"run_id": self.run_id, "llm": self.llm, "model": self.model}
        out["suites"] = suites
        if self.gate is not None:
            out["gate"] = self.gate
        return out

    def as_dict(self) -> dict[str, Any]:
        """Everything, as stored in ``run.json``."""
        return {
            "run_id": self.run_id,
            "started": self.started,
            "finished": self.finished,
            "llm": self.llm,
            "model": self.model,
            "home": self.home,
            "versions": self.versions,
            "gate": self.gate,
            "suites": {name: r.as_dict() for name, r in self.suites.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        """Inverse of :meth:`as_dict`."""
        return cls(
            run_id=data["run_id"],
            started=data.get("started", ""),
            finished=data.get("finished", ""),
            llm=data.get("llm", ""),
            model=data.get("model", ""),
            home=data.get("home", ""),
            versions=dict(data.get("versions", {})),
            suites={k: SuiteResult.from_dict(v) for k, v in data.get("suites", {}).items()},
            gate=data.get("gate"),
        )
