"""``sightline restricted``: compliance's restricted list (SECURITY.md row 9).

A restricted ticker is refused by every agent tool (SQL, features, risk, PD) for users outside its
allowed groups, and each refusal is logged as a barrier event in the answer trail. Only compliance
or admin may add or remove entries; anyone may list them. See docs/agent.md, "Restricted list".
"""

from __future__ import annotations

import click

from app.runtime import Runtime
from ingestion.errors import PermissionDenied
from tools.restricted import RestrictedList

EDITORS = ("compliance", "admin")
USER_OPTION = click.option(
    "--user", "user_name", default=None, help="Act as this user (default: SIGHTLINE_USER)."
)


def _editor(rt: Runtime, user_name: str | None) -> str:
    user = rt.user(user_name)
    if user.role not in EDITORS:
        raise PermissionDenied(
            f"user {user.name} ({user.role}) may not change the restricted list",
            hint="ask compliance",
        )
    return user.name


@click.group()
def restricted() -> None:
    """The restricted list: tickers only some groups may see (information barrier)."""


@restricted.command("add")
@click.argument("ticker")
@click.option("--groups", required=True, help="Groups that may still see it, e.g. deal-team.")
@click.option("--reason", required=True, help="Why it is restricted (never shown to analysts).")
@USER_OPTION
@click.pass_obj
def restricted_add(
    rt: Runtime, ticker: str, groups: str, reason: str, user_name: str | None
) -> None:
    """Restrict TICKER to the given groups (compliance or admin)."""
    by = _editor(rt, user_name)
    entry = RestrictedList(rt.settings.home).add(ticker, groups.split(","), reason, by)
    click.echo(f"restricted {entry.ticker} to {', '.join(entry.allowed_groups)}")


@restricted.command("remove")
@click.argument("ticker")
@USER_OPTION
@click.pass_obj
def restricted_remove(rt: Runtime, ticker: str, user_name: str | None) -> None:
    """Take TICKER off the restricted list (compliance or admin)."""
    by = _editor(rt, user_name)
    RestrictedList(rt.settings.home).remove(ticker, by)
    click.echo(f"removed {ticker.upper()} from the restricted list")


@restricted.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (entries and history).")
@click.pass_obj
def restricted_list(rt: Runtime, as_json: bool) -> None:
    """Show the restricted tickers and who may still see them."""
    from app.cli import emit_json

    store = RestrictedList(rt.settings.home)
    entries = store.entries()
    if as_json:
        emit_json({"entries": [e.to_json() for e in entries], "history": store.history()})
        return
    if not entries:
        click.echo("the restricted list is empty")
    for e in entries:
        click.echo(
            f"{e.ticker:<8} groups: {','.join(e.allowed_groups):<20} added {e.added_at} by "
            f"{e.added_by}: {e.reason}"
        )
