"""``sightline monitor``: drift per model input, prediction drift, freshness, latency, alerts."""

from __future__ import annotations

from datetime import datetime

import click

from app.runtime import Runtime

_DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command("monitor")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@click.option("--user", default=None, help="User the alerts are recorded for in the trail.")
@click.option(
    "--as-of",
    "as_of",
    type=_DATE,
    default=None,
    help="End of the recent market window (default: latest published batch date).",
)
@click.option(
    "--days",
    type=int,
    default=None,
    help="Trading days in the recent market window (default SIGHTLINE_MONITOR_RECENT_DAYS).",
)
@click.option("--no-record", is_flag=True, help="Compute only; record no alert in the trail.")
@click.pass_obj
def monitor(
    rt: Runtime, as_json: bool, user: str | None, as_of: datetime | None, days: int | None,
    no_record: bool,
) -> None:  # fmt: skip
    """PSI/KS per model input, PD and VaR drift, table freshness, latency p50/p95/p99, alerts."""
    from app.cli import emit_json
    from app.monitoring.monitor import monitor as run_monitor

    result = run_monitor(
        rt, as_of=as_of.date() if as_of else None, days=days, user=user, record=not no_record
    )
    if as_json:
        emit_json(result)
        return
    click.echo(f"{'model':<18} {'input':<26} {'psi':>7} {'ks':>7}  status")
    for row in result["inputs"]:
        ks = f"{row['ks']:.3f}" if row.get("ks") is not None else "-"
        click.echo(
            f"{row['model']:<18} {row['input']:<26} {row['psi']:7.3f} {ks:>7}  {row['status']}"
        )
    scores = result["predictions"]["pd_scores"]
    if scores:
        click.echo(
            f"PD scores (run {scores['run_id']}): PSI {scores['psi']:.3f}, KS {scores['ks']:.3f}"
        )
    for t in result["freshness"]:
        click.echo(f"table {t['table']:<18} {t['rows']:>9,} rows  last {t['last'] or '-'}")
    lat = result["latency"]["answers"]
    if lat["count"]:
        click.echo(f"answers: {lat['count']}  p50 {lat['p50']:.0f} ms  p95 {lat['p95']:.0f} ms  "
                   f"p99 {lat['p99']:.0f} ms")  # fmt: skip
    for alert in result["alerts"]:
        click.echo(f"ALERT {alert['level']}: {alert['message']}")
    if not result["alerts"]:
        click.echo("no alerts")
