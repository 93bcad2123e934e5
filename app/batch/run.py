"""``sightline batch run``: the overnight job, idempotent and restartable, with lineage per run.

Stages: features (materialize what is stale) -> lineage (point-in-time input sha256s, feature,
model and code versions) -> holdings and price checks -> risk -> backtest -> PD -> reconciliation
-> publish. Nothing is visible until publish, which writes results, status and the ``current``
pointer in one atomic warehouse write; a crash or a failed step leaves the previous good run
current (a failure is recorded with its step). Restarting is rerunning: a rerun with the same
inputs recomputes, compares the results' sha256 and reports an identical rerun.

Exit codes (for cron, Airflow, Control-M): 0 succeeded or identical rerun; 1 bad input or setup
(the error says what to fix); 2 usage error; 3 a step failed (recorded; retry after fixing);
4 another batch run holds the lock (retry later).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app import __version__
from app.batch import steps
from app.batch.limits import load_limits
from app.runtime import Runtime
from ingestion.errors import InputError, SightlineError
from tools import batch_store
from tools.registry import code_version

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_STEP_FAILED, EXIT_LOCKED = 0, 1, 2, 3, 4
Say = Callable[[str], None]
_CODE_FILES = (
    "app/batch/run.py", "app/batch/steps.py", "app/batch/limits.py", "tools/batch_store.py",
    "tools/book.py", "tools/risk.py", "tools/risk_math.py", "tools/credit.py",
    "tools/scorecard.py", "tools/inputs.py", "features/store.py",
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """How a batch run ended: what a scheduler acts on (``exit_code``) and what a person reads."""

    run_id: str | None
    as_of: date
    status: str  # succeeded | identical | failed | locked
    message: str
    exit_code: int
    identical_to: str | None = None
    failed_step: str | None = None
    results_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "run_id": self.run_id, "as_of": self.as_of.isoformat(), "status": self.status,
            "message": self.message, "exit_code": self.exit_code,
            "identical_to": self.identical_to, "failed_step": self.failed_step,
            "results_sha256": self.results_sha256,
        }  # fmt: skip


def batch_code_version() -> str:
    """Short hash of the source files whose logic the batch's numbers depend on."""
    root = Path(__file__).resolve().parents[2]
    return code_version(*(root / f for f in _CODE_FILES))


def new_run_id(as_of: date) -> str:
    """``YYYYMMDD-HHMMSS-xxxx``: the as-of date, the UTC start time, 4 random hex digits."""
    now = datetime.now(UTC)
    return f"{as_of:%Y%m%d}-{now:%H%M%S}-{secrets.token_hex(2)}"


def _sha(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class _Clock:
    """Stage timings; remembers which stage is running so a failure names it."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.seconds: dict[str, float] = {}
        self.current = "start"

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.current = name
        self.say(f"{name} ...")
        t0 = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - t0, 3)


def run_batch(rt: Runtime, as_of: date, *, user: str | None = None, say: Say = print) -> Outcome:
    """Run the overnight batch for ``as_of`` (see the module docstring for stages and exit codes).

    Raises:
        SightlineError: bad setup found before the run starts (unknown user, no warehouse).
    """
    from filelock import FileLock, Timeout

    who = rt.user(user)
    if not rt.warehouse.exists():
        raise InputError(
            f"no warehouse in {rt.settings.home}", hint="load data first (`sightline demo`)"
        )
    lock = FileLock(str(rt.settings.home / "batch.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return Outcome(None, as_of, "locked", "another batch run is in progress", EXIT_LOCKED)
    try:
        return _run_locked(rt, as_of, who.name, say)
    finally:
        lock.release()


def _run_locked(rt: Runtime, as_of: date, user: str, say: Say) -> Outcome:
    run_id = new_run_id(as_of)
    batch_store.insert_running(
        rt.warehouse,
        {"run_id": run_id, "as_of": as_of, "user": user, "pid": os.getpid(),
         "host": socket.gethostname(), "started_at": datetime.now(UTC).replace(tzinfo=None)},
    )  # fmt: skip
    say(f"run {run_id} (as of {as_of}) started")
    clock = _Clock(say)
    lineage: dict[str, Any] | None = None
    try:
        lineage, results = _compute(rt, as_of, clock)
        with clock.stage("publish"):
            outcome = _publish(rt, run_id, as_of, lineage, results, clock.seconds)
    except (SightlineError, Exception) as exc:  # noqa: BLE001 - any failure is recorded
        message = str(exc) if isinstance(exc, SightlineError) else f"{type(exc).__name__}: {exc}"
        batch_store.mark_failed(
            rt.warehouse, run_id, step=clock.current, error=message,
            ended_at=datetime.now(UTC).replace(tzinfo=None), stages=clock.seconds,
            lineage=lineage,
        )  # fmt: skip
        outcome = Outcome(
            run_id, as_of, "failed",
            f"run {run_id} failed in step '{clock.current}': {message}; the previous good run "
            "stays current", EXIT_STEP_FAILED, failed_step=clock.current,
        )  # fmt: skip
    _record_event(rt, user, outcome, lineage)
    return outcome


def _compute(rt: Runtime, as_of: date, clock: _Clock) -> tuple[dict[str, Any], steps.Results]:
    from features.batch import materialize
    from features.definitions import all_features

    s = rt.settings
    limits = load_limits(s.batch_limits)
    with clock.stage("features"):
        materialize(rt.warehouse, only_stale=True)
    out = steps.Results()
    with rt.warehouse.reader() as con:
        with clock.stage("lineage"):
            if batch_store.market_day(con, as_of) is None:
                raise InputError(f"the prices table has no price on or before {as_of}")
            previous = batch_store.previous_current(con, as_of)
            lineage = {
                "as_of": as_of.isoformat(),
                "tables": batch_store.input_fingerprints(con, as_of),
                "features": {d.name: d.version for d in all_features()},
                "models": {n: rt.registry.approved(n).ref for n in ("risk", "pd")},
                "code": {"sightline": __version__, "batch": batch_code_version()},
                "limits": {"file": limits.source, "sha256": _sha(limits.portfolios)},
                "sectors_sha256": _sha(limits.sectors),
                "stale_days": s.batch_stale_days,
                "previous_run": previous[1] if previous else None,
            }
        with clock.stage("holdings"):
            book = steps.holdings(con, as_of, s.batch_stale_days, out)
        with clock.stage("risk"):
            weights = steps.risk(con, rt.registry, as_of, sorted(book), limits, out)
        with clock.stage("backtest"):
            steps.backtests(con, as_of, weights, out)
        with clock.stage("credit"):
            steps.loan_pds(con, rt.registry, out)
        with clock.stage("reconcile"):
            steps.reconcile_quantities(con, as_of, out)
    return lineage, out


def _publish(
    rt: Runtime, run_id: str, as_of: date, lineage: dict[str, Any], results: steps.Results,
    stages: dict[str, float],
) -> Outcome:  # fmt: skip
    inputs_sha = _sha(lineage)
    results_sha = _sha({"tables": results.tables, "payload": results.payload})
    with rt.warehouse.reader() as con:
        current = batch_store.current_run_id(con, as_of)
        same = (
            current is not None and batch_store.get_run(con, current).results_sha256 == results_sha
        )
    identical_to = current if same else None
    counts = {t: len(rows) for t, rows in results.tables.items()}
    summary = {
        "ended_at": datetime.now(UTC).replace(tzinfo=None),
        "inputs_sha256": inputs_sha,
        "results_sha256": results_sha,
        "lineage": lineage | {"result_rows": counts},
        "stages": stages,
        "payload": results.payload,
    }
    batch_store.publish(
        rt.warehouse, run_id, as_of, results.tables, summary=summary, identical_to=identical_to
    )
    if identical_to:
        return Outcome(
            run_id, as_of, "identical",
            f"identical rerun: run {run_id} reproduced run {identical_to} bit for bit (results "
            f"sha256 {results_sha[:16]}); run {identical_to} stays current", EXIT_OK,
            identical_to=identical_to, results_sha256=results_sha,
        )  # fmt: skip
    errors = sum(1 for r in results.tables["batch_exceptions"] if r[1] == "error")
    note = f"; {errors} reconciliation error(s)" if errors else ""
    return Outcome(
        run_id, as_of, "succeeded",
        f"run {run_id} succeeded and is current for {as_of}: {counts['batch_pd']} loans, "
        f"{len(results.payload.get('risk', {}))} portfolio(s), "
        f"{counts['batch_exceptions']} exception(s){note}", EXIT_OK, results_sha256=results_sha,
    )  # fmt: skip


def _record_event(rt: Runtime, user: str, outcome: Outcome, lineage: dict[str, Any] | None) -> None:
    """An ``event`` in the answer trail, so compliance can tie later reports to the run."""
    from app.trail import AnswerRecord

    role = rt.user(user).role
    rt.trail.append(
        AnswerRecord(
            kind="event", user=user, role=role, status="recorded",
            note=f"batch run {outcome.run_id} for {outcome.as_of}: {outcome.status}",
            details={"action": "batch_run", **outcome.to_dict(),
                     "inputs_sha256": _sha(lineage) if lineage else None},
        )
    )  # fmt: skip
