"""``sightline batch run|list|show|schedule``: the overnight batch from any scheduler."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from app.runtime import Runtime

_DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group()
def batch() -> None:
    """Overnight batch: features, risk, PD, reconciliation; runs with lineage (docs/batch.md)."""


@batch.command("run")
@click.option("--as-of", "as_of", type=_DATE, required=True, help="Business date to run for.")
@click.option("--user", default=None, help="User the run is recorded for (default SIGHTLINE_USER).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_obj
def run_cmd(rt: Runtime, as_of: datetime, user: str | None, as_json: bool) -> None:
    """Run the batch for one date; exit 0 ok/identical, 3 step failed, 4 locked (docs/batch.md)."""
    from app.batch.run import run_batch
    from app.cli import emit_json

    outcome = run_batch(rt, as_of.date(), user=user, say=lambda m: click.echo(m, err=True))
    if as_json:
        emit_json(outcome.to_dict())
    else:
        click.echo(outcome.message)
    sys.exit(outcome.exit_code)


@batch.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def list_cmd(rt: Runtime, as_json: bool) -> None:
    """Batch runs, newest first, with status and whether each is current for its date."""
    from app.batch.runs import runs
    from app.cli import emit_json

    rows = runs(rt)
    if as_json:
        emit_json([r.to_dict() for r in rows])
        return
    if not rows:
        click.echo("no batch runs yet (`sightline batch run --as-of DATE`)")
        return
    click.echo(f"{'run id':<22} {'as of':<10}  {'status':<10} {'current':<7} {'started':<19}  note")
    for r in rows:
        note = f"identical to {r.identical_to}" if r.identical_to else (r.failed_step or "")
        click.echo(
            f"{r.run_id:<22} {r.as_of.isoformat():<10}  {r.status:<10} "
            f"{'yes' if r.current else '':<7} {r.started_at:%Y-%m-%d %H:%M:%S}  {note}"
        )


@batch.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the run, lineage and results as JSON.")
@click.pass_obj
def show_cmd(rt: Runtime, run_id: str, as_json: bool) -> None:
    """One run: status, lineage (input sha256s, versions), stage times and result counts."""
    from app.batch.runs import run_detail
    from app.cli import emit_json

    detail = run_detail(rt, run_id)
    if as_json:
        emit_json(detail)
        return
    click.echo(f"run {detail['run_id']}  as of {detail['as_of']}  {detail['status']}"
               f"{'  (current)' if detail['current'] else ''}")  # fmt: skip
    click.echo(f"started {detail['started_at']}  ended {detail['ended_at']}  by {detail['user']}")
    if detail["error"]:
        click.echo(f"failed in step {detail['failed_step']}: {detail['error']}")
    if detail["identical_to"]:
        click.echo(f"identical rerun of {detail['identical_to']}")
    lineage = detail["lineage"]
    for table, info in lineage.get("tables", {}).items():
        click.echo(f"  input {table:<13} {info['rows']:>9,} rows  sha256 {info['sha256'][:16]}")
    for name, ref in lineage.get("models", {}).items():
        click.echo(f"  model {name:<13} {ref}")
    if lineage.get("code"):
        click.echo(f"  code  {lineage['code']}")
    for stage, seconds in detail["stages_s"].items():
        click.echo(f"  stage {stage:<13} {seconds:8.2f} s")
    for table, n in detail.get("result_rows", {}).items():
        click.echo(f"  rows  {table:<17} {n:>7,}")


@batch.command("schedule")
@click.option("--cron", default=None, help="Crontab expression (default SIGHTLINE_BATCH_SCHEDULE).")
@click.option("--user", default=None, help="User the scheduled runs are recorded for.")
@click.option("--next", "show_next", type=int, default=0,
              help="Print the next N fire times and their as-of dates, then exit.")  # fmt: skip
@click.pass_obj
def schedule_cmd(rt: Runtime, cron: str | None, user: str | None, show_next: int) -> None:
    """Run the batch on a cron schedule in this process (APScheduler; single-machine installs)."""
    from app.batch.schedule import next_runs, serve

    expression = cron or rt.settings.batch_schedule
    if show_next:
        for fire, as_of in next_runs(expression, show_next):
            click.echo(f"{fire.isoformat(timespec='minutes')}  as of {as_of.isoformat()}")
        return
    serve(rt, expression, user=user, say=lambda m: click.echo(m, err=True))
