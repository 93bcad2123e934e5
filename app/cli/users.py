"""``sightline users``: add and list users, their roles and access groups."""

from __future__ import annotations

import click

from app.runtime import Runtime
from app.users import ROLES, parse_groups


@click.group()
def users() -> None:
    """Manage users, roles and access groups."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="The user's one role.")
@click.option(
    "--groups",
    default="public",
    show_default=True,
    help="Access groups (information barriers), comma-separated.",
)
@click.option("--password", default=None, help="Password for signing in to the app (optional).")
@click.pass_obj
def users_add(rt: Runtime, name: str, role: str, groups: str, password: str | None) -> None:
    """Add user NAME with a role and access groups."""
    user = rt.users.add(name, role, parse_groups(groups), password=password)
    click.echo(f"added {user.name} ({user.role}; groups: {', '.join(user.groups)})")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def users_list(rt: Runtime, as_json: bool) -> None:
    """List users with their roles and groups."""
    from app.cli import emit_json

    everyone = rt.users.list()
    if as_json:
        emit_json([u.public() for u in everyone])
        return
    if not everyone:
        click.echo("no users yet; run `sightline demo` or `sightline users add`")
    for u in everyone:
        click.echo(f"{u.name:<20} {u.role:<12} {','.join(u.groups)}")
