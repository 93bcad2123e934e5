"""Purge rules shared by every trail store: when a purge may run and how a purged prefix is proven.

A store removes its oldest records only after retention has passed and the chain verifies, and it
appends a ``purge`` event recording the last removed position and hash. ``verify`` later accepts
a chain that starts past genesis only when such an event names exactly that base.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from app.trail.chain import Break, ChainBase, VerifyResult
from app.trail.errors import TrailError
from ingestion.errors import InputError


def years_before(moment: datetime, years: int) -> date:
    """The calendar date ``years`` years before ``moment`` (29 February becomes the 28th)."""
    day = moment.astimezone(UTC).date()
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def check_purge_allowed(
    before: date, now: datetime, retention_years: int, verifies: Callable[[], bool]
) -> None:
    """Refuse a purge of records younger than retention, or of a chain that does not verify.

    Raises:
        InputError: ``before`` is later than the retention cutoff.
        TrailError: the chain does not verify (a damaged trail is evidence, not garbage).
    """
    cutoff = years_before(now, retention_years)
    if before > cutoff:
        raise InputError(
            f"refusing to purge before {before.isoformat()}: records appended after "
            f"{cutoff.isoformat()} are younger than the {retention_years}-year retention "
            "period (SIGHTLINE_TRAIL_RETENTION_YEARS)",
            hint=f"use --before {cutoff.isoformat()} or earlier",
        )
    if not verifies():
        raise TrailError(
            "refusing to purge: the answer trail does not verify",
            hint="run `sightline trail verify` and investigate before removing anything",
        )


def require_purge_event(
    bodies: Iterable[str | bytes], base: ChainBase, result: VerifyResult
) -> None:
    """Mark ``result`` broken unless one of the purge events in ``bodies`` names ``base``.

    The latest purge must be recorded in the chain itself, or the missing prefix is theft.
    """
    for body in bodies:
        if json.loads(body).get("details", {}).get("through_hash") == base.hash:
            return
    problem = (
        f"records up to position {base.seq} are gone but no purge event in the chain "
        "records their removal"
    )
    result.ok = False
    result.problems.append(problem)
    result.first_break = Break(seq=base.seq, id=None, reason=problem)


def purge_summary(
    purged: int,
    before: date,
    through_seq: int,
    through_hash: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """What ``purge`` returns (and the CLI prints), the same fields from every store."""
    summary: dict[str, Any] = {
        "purged": purged,
        "before": before.isoformat(),
        "through_seq": through_seq,
    }
    if through_hash is not None:
        summary |= {"through_hash": through_hash, "event_id": event_id}
    return summary
