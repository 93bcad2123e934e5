"""``sightline batch schedule``: an in-process cron for single-machine installs (APScheduler).

Each fire runs the batch for the previous business day (T+1: a 01:30 Tuesday run reports Monday).
Production installs call ``sightline batch run --as-of DATE`` from cron, Airflow or Control-M
instead (docs/batch.md has a crontab line and an Airflow DAG).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from app.runtime import Runtime
from ingestion.errors import ConfigError


def previous_business_day(moment: datetime) -> date:
    """The last Monday-Friday strictly before ``moment``'s date (no holiday calendar)."""
    day = moment.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _trigger(expression: str):  # noqa: ANN202 - apscheduler CronTrigger
    """A CronTrigger for a standard crontab line.

    APScheduler 3 numbers weekdays from Monday = 0, crontab from Sunday = 0 (7 also Sunday), and
    ``CronTrigger.from_crontab`` does not translate: '1-5' would mean Tuesday-Saturday. Numbers in
    the weekday field are therefore written as names first.
    """
    import re

    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    try:
        if len(fields) != 5:
            raise ValueError(f"expected 5 fields, got {len(fields)}")
        minute, hour, day, month, weekday = fields
        weekday = re.sub(r"\d+", lambda m: _DAY_NAMES[int(m.group())], weekday)
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=UTC
        )
    except (ValueError, IndexError) as exc:
        raise ConfigError(
            f"'{expression}' is not a crontab expression: {exc}",
            hint="five fields: minute hour day month weekday, e.g. '30 1 * * 1-5'",
        ) from None


def next_runs(
    expression: str, count: int, now: datetime | None = None
) -> list[tuple[datetime, date]]:
    """The next ``count`` fire times of ``expression`` (UTC) with the as-of date each would run."""
    trigger = _trigger(expression)
    out: list[tuple[datetime, date]] = []
    previous = None
    moment = now or datetime.now(UTC)
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        out.append((fire, previous_business_day(fire)))
        previous, moment = fire, fire + timedelta(seconds=1)
    return out


def scheduled_job(rt: Runtime, user: str | None, say: Callable[[str], None]) -> int:
    """What each fire does: run the batch for the previous business day; returns the exit code."""
    from app.batch.run import run_batch

    as_of = previous_business_day(datetime.now(UTC))
    outcome = run_batch(rt, as_of, user=user, say=say)
    say(outcome.message)
    return outcome.exit_code


def serve(rt: Runtime, expression: str, *, user: str | None, say: Callable[[str], None]) -> None:
    """Block, running the batch on ``expression`` until interrupted (Ctrl-C / SIGTERM)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone=UTC)
    # One run at a time; a fire missed by up to an hour (machine asleep) still runs once.
    scheduler.add_job(
        scheduled_job, _trigger(expression), args=[rt, user, say], id="overnight-batch",
        max_instances=1, coalesce=True, misfire_grace_time=3600,
    )  # fmt: skip
    say(f"batch scheduled '{expression}' (UTC); next: {next_runs(expression, 1)[0][0]}")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
