"""``sightline models``: train, validate, approve, retire and inspect the risk and PD models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from app.runtime import Runtime

MODEL_NAMES = ("risk", "pd")


@click.group()
def models() -> None:
    """Model inventory and lifecycle: draft -> validated -> approved -> retired (maker-checker)."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def models_list(rt: Runtime, as_json: bool) -> None:
    """List every registered model version with its status and who registered/approved it."""
    from app.cli import emit_json

    versions = rt.registry.list()
    if as_json:
        emit_json([mv.summary() for mv in versions])
        return
    if not versions:
        click.echo("no models registered; run `sightline demo` or `sightline models train`")
    for mv in versions:
        approved = f"approved by {mv.approved_by} {mv.approved_at}" if mv.approved_by else ""
        click.echo(f"{mv.ref:<20} {mv.status:<10} registered by {mv.registered_by:<12} {approved}")


@models.command("train")
@click.argument("name", type=click.Choice(MODEL_NAMES))
@click.option("--user", default=None, help="Model owner registering it (default: SIGHTLINE_USER).")
@click.option("--json", "as_json", is_flag=True, help="Print the registered version as JSON.")
@click.pass_obj
def models_train(rt: Runtime, name: str, user: str | None, as_json: bool) -> None:
    """Train model NAME on the warehouse and register it as a draft version."""
    from app.cli import emit_json
    from tools.errors import GovernanceError
    from tools.lifecycle import train
    from tools.registry import REGISTER_ROLES

    who = rt.user(user)
    if who.role not in REGISTER_ROLES:  # refuse before spending time on training
        raise GovernanceError(
            f"{who.name} ({who.role}) may not register models",
            hint=f"registering needs one of the roles: {', '.join(sorted(REGISTER_ROLES))}",
        )
    click.echo(f"training {name} ...", err=True)
    with rt.warehouse.reader() as con:
        trained = train(name, con)
    mv, created = rt.registry.register(trained, user=who.name, role=who.role)
    if as_json:
        emit_json(mv.summary() | {"created": created, "metrics": _headline(mv)})
        return
    state = "registered as draft" if created else f"already registered ({mv.status})"
    click.echo(f"{mv.ref} {state}; {_headline_text(mv)}")


@models.command("validate")
@click.argument("ref")
@click.option("--user", default=None, help="Validator (default: SIGHTLINE_USER).")
@click.pass_obj
def models_validate(rt: Runtime, ref: str, user: str | None) -> None:
    """Independently validate NAME@VERSION (reproduce it, re-measure it) as a validator."""
    from tools.lifecycle import validation_report
    from tools.registry import parse_ref

    who = rt.user(user)
    name, version = parse_ref(ref)
    mv = rt.registry.get(name, version)
    rt.registry.require_checker(mv, who.name, who.role, "validate")  # fail fast, before the work
    click.echo(f"validating {mv.ref} (retraining and re-measuring) ...", err=True)
    with rt.warehouse.reader() as con:
        report = validation_report(con, rt.registry, mv)
    mv = rt.registry.validate(ref, user=who.name, role=who.role, report=report)
    for check in report["checks"]:
        click.echo(f"  {'pass' if check['passed'] else 'FAIL'} {check['name']}: {check['detail']}")
    click.echo(f"{mv.ref} validated by {who.name} ({mv.validation_ref})")


@models.command("approve")
@click.argument("ref")
@click.option("--user", default=None, help="Validator approving it (default: SIGHTLINE_USER).")
@click.pass_obj
def models_approve(rt: Runtime, ref: str, user: str | None) -> None:
    """Approve a validated NAME@VERSION for use; the version it replaces is retired."""
    who = rt.user(user)
    mv = rt.registry.approve(ref, user=who.name, role=who.role)
    click.echo(f"{mv.ref} approved by {who.name} at {mv.approved_at}; it is now served")


@models.command("retire")
@click.argument("ref")
@click.option("--user", default=None, help="Who retires it (default: SIGHTLINE_USER).")
@click.option("--note", default="", help="Why it is retired (kept in the history).")
@click.pass_obj
def models_retire(rt: Runtime, ref: str, user: str | None, note: str) -> None:
    """Retire NAME@VERSION: it is no longer served (it stays in the inventory and history)."""
    who = rt.user(user)
    mv = rt.registry.retire(ref, user=who.name, role=who.role, note=note)
    click.echo(f"{mv.ref} retired by {who.name}")


@models.command("history")
@click.argument("name")
@click.option(
    "--on",
    "on",
    default=None,
    help="Only say which version was in production on this date (YYYY-MM-DD, end of day UTC) "
    "or at this UTC time (YYYY-MM-DDTHH:MM:SS).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def models_history(rt: Runtime, name: str, on: str | None, as_json: bool) -> None:
    """Every status change of model NAME with who and when, or the version in production --on."""
    from app.cli import emit_json

    if on is not None:
        moment = _parse_moment(on)
        mv = rt.registry.in_production(name, moment)
        payload: dict[str, Any] = {
            "name": name,
            "on": on,
            "version": mv.version if mv else None,
            "approved_by": mv.approved_by if mv else None,
            "approved_at": mv.approved_at if mv else None,
            "validation": mv.validation_ref if mv else None,
        }
        if as_json:
            emit_json(payload)
        elif mv:
            click.echo(f"{name}@{mv.version} was in production on {on} (approved by "
                       f"{mv.approved_by} at {mv.approved_at})")  # fmt: skip
        else:
            click.echo(f"no version of {name} was in production on {on}")
        return
    transitions = rt.registry.history(name)
    if as_json:
        emit_json([t.as_dict() for t in transitions])
        return
    for t in transitions:
        note = f"  ({t.note})" if t.note else ""
        click.echo(
            f"{t.at}  {t.name}@{t.version}  {t.from_status or '-':>9} -> {t.to_status:<9} "
            f"by {t.by_user} ({t.by_role}){note}"
        )


@models.command("backtest")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.pass_obj
def models_backtest(rt: Runtime, ref: str, as_json: bool) -> None:
    """Backtest risk@VERSION's one-day VaR on the S&P 500 (Kupiec POF, Christoffersen)."""
    from app.cli import emit_json
    from tools.errors import ToolInputError
    from tools.registry import parse_ref
    from tools.risk import run_backtest

    name, version = parse_ref(ref)
    if name != "risk":
        raise ToolInputError(f"backtests apply to the risk model, not '{name}'")
    mv = rt.registry.get(name, version)
    art = rt.registry.artefact(mv)
    with rt.warehouse.reader() as con:
        report = run_backtest(con, mv.params | art)
    report = {"model": mv.ref} | report
    if as_json:
        emit_json(report)
        return
    click.echo(
        f"{mv.ref}: one-day VaR on ^GSPC {report['start']} .. {report['end']} "
        f"({report['observations']:,} days)"
    )
    click.echo(
        f"{'method':<16}{'conf':>6}{'exc':>6}{'expected':>10}{'Kupiec p':>10}"
        f"{'Christ. p':>11}{'CC p':>8}{'2008':>6}  zone"
    )
    for r in report["results"]:
        click.echo(
            f"{r['method']:<16}{r['confidence']:>6}{r['exceptions']:>6}{r['expected']:>10.1f}"
            f"{r['kupiec_p']:>10.4f}{r['christoffersen_p']:>11.4f}"
            f"{r['conditional_coverage_p']:>8.4f}{r['exceptions_2008']:>6}  "
            f"{r['basel_zone_last_250'] or '-'}"
        )


def _parse_moment(text: str) -> date | datetime:
    from tools.errors import ToolInputError

    try:
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    except ValueError:
        raise ToolInputError(
            f"'{text}' is not a date", hint="write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)"
        ) from None


def _headline(mv: Any) -> dict[str, Any]:
    if mv.name == "pd":
        test = mv.metrics["test"]
        return {k: test[k] for k in ("auc", "gini", "ks", "brier")}
    primary = [r for r in mv.metrics["backtest"]["results"] if abs(r["confidence"] - 0.99) < 1e-12]
    return {
        "student_t_nu": mv.metrics["student_t_nu"],
        "backtest_99": {
            r["method"]: {"exceptions": r["exceptions"], "kupiec_p": r["kupiec_p"]} for r in primary
        },
    }


def _headline_text(mv: Any) -> str:
    h = _headline(mv)
    if mv.name == "pd":
        return (
            f"test AUC {h['auc']:.3f}, Gini {h['gini']:.3f}, KS {h['ks']:.3f}, "
            f"Brier {h['brier']:.3f}"
        )
    t = h["backtest_99"].get("student_t_ewma", {})
    return (
        f"Student-t dof {h['student_t_nu']:.2f}; 99% t-EWMA VaR backtest: "
        f"{t.get('exceptions')} exceptions, Kupiec p {t.get('kupiec_p', float('nan')):.3f}"
    )
