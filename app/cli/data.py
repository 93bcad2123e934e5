"""``sightline demo``, ``sightline ingest TABLE FILE`` and ``sightline db tables``."""

from __future__ import annotations

import time
from pathlib import Path

import click

from app.runtime import Runtime
from ingestion.schemas import TABLES


@click.command()
@click.pass_obj
def demo(rt: Runtime) -> None:
    """Load all bundled demo data and demo users (safe to run again: nothing is duplicated)."""
    from app.demo import DEMO_STEPS, run_demo

    started = time.monotonic()
    total = len(DEMO_STEPS)
    for index, step in enumerate(DEMO_STEPS, start=1):
        click.echo(f"[{index}/{total}] {step.name} ...", err=True)
        t0 = time.monotonic()
        ((_, summary),) = run_demo(
            rt, lambda msg: click.echo(f"      {msg}", err=True), only=step.name
        )
        click.echo(f"      {summary} ({time.monotonic() - t0:.1f}s)", err=True)
    click.echo(f"demo data ready in {rt.settings.home} ({time.monotonic() - started:.1f}s)")


@click.group()
def ingest() -> None:
    """Load files into the warehouse (tables) or the document index (docs)."""


def _table_loader(table: str) -> click.Command:
    schema = TABLES[table]

    @click.command(
        name=table,
        help=f"Load a CSV or Parquet file into '{table}': {schema.description}"
        f" Columns: {', '.join(schema.column_names)}; key: {', '.join(schema.keys)}.",
    )
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--user", default=None, help="Who is loading (default: SIGHTLINE_USER).")
    @click.pass_obj
    def load(rt: Runtime, file: Path, user: str | None) -> None:
        from ingestion.tables import load_table

        who = rt.user(user)
        report = load_table(rt.warehouse, table, file, loaded_by=who.name)
        click.echo(report.summary())

    return load


for _table in TABLES:
    ingest.add_command(_table_loader(_table))


@click.group()
def db() -> None:
    """Inspect the warehouse."""


@db.command("tables")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def db_tables(rt: Runtime, as_json: bool) -> None:
    """List tables with row counts, key columns and date ranges."""
    from app.cli import emit_json
    from ingestion.tables import table_overview

    with rt.warehouse.reader() as con:
        overview = table_overview(con)
    if as_json:
        emit_json(overview)
        return
    click.echo(f"{'table':<22} {'rows':>12}  {'keys':<28} date range")
    for t in overview:
        dates = f"{t['date_min']} .. {t['date_max']}" if t["date_min"] else "-"
        keys = ",".join(t["keys"])  # type: ignore[arg-type]
        click.echo(f"{t['name']:<22} {t['rows']:>12,}  {keys:<28} {dates}")
