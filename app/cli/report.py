"""``sightline report morning``: the T+1 morning risk report (HTML and PDF) from a batch run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from app.runtime import Runtime

_DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group()
def report() -> None:
    """Reports built from published batch runs (docs/batch.md)."""


@report.command("morning")
@click.option("--as-of", "as_of", type=_DATE, required=True, help="Business date of the batch run.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder for the .html and .pdf (default: SIGHTLINE_HOME/reports).",
)  # fmt: skip
@click.option("--user", default=None, help="User the report is recorded for in the trail.")
@click.option("--json", "as_json", is_flag=True, help="Print file paths and sha256s as JSON.")
@click.pass_obj
def morning(
    rt: Runtime, as_of: datetime, out_dir: Path | None, user: str | None, as_json: bool
) -> None:
    """Write the morning report for the current run of AS-OF; record its sha256 in the trail."""
    from app.cli import emit_json
    from app.reports.morning import write_morning_report

    target = out_dir or rt.settings.home / "reports"
    files = write_morning_report(rt, as_of.date(), target, user=user)
    if as_json:
        emit_json(files.to_dict())
        return
    click.echo(f"run {files.run_id}: {files.html}")
    click.echo(f"run {files.run_id}: {files.pdf} ({files.pages} pages)")
    click.echo(f"sha256 html {files.html_sha256}")
    click.echo(f"sha256 pdf  {files.pdf_sha256}  (trail event {files.trail_record})")
