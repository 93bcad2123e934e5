"""``sightline tokens ...``: per-user API tokens for the inference service (stored hashed)."""

from __future__ import annotations

import click

from app.runtime import Runtime
from ingestion.errors import PermissionDenied


@click.group()
def tokens() -> None:
    """API tokens for `sightline serve` (one per client; shown once, stored hashed)."""


def _may_manage(rt: Runtime, actor_name: str | None, owner: str) -> str:
    actor = rt.user(actor_name)
    if actor.role != "admin" and actor.name != owner:
        raise PermissionDenied(
            f"{actor.name} ({actor.role}) may not manage tokens of {owner}",
            hint="an admin manages anyone's tokens; other users only their own (--user ADMIN)",
        )
    return actor.name


@tokens.command("create")
@click.argument("user_name", metavar="USER")
@click.option("--user", "actor", default=None, help="Who creates it (an admin, or USER itself).")
@click.pass_obj
def create_cmd(rt: Runtime, user_name: str, actor: str | None) -> None:
    """Create a token for USER; the token is printed once, as the last word of the last line."""
    from app.tokens import TokenStore

    owner = rt.user(user_name).name  # unknown users are refused
    by = _may_manage(rt, actor, owner)
    entry, token = TokenStore(rt.settings.home).create(owner, by=by)
    click.echo(
        f"token id {entry.id} for {owner} (created by {by}); keep it secret, it is not shown again"
    )
    click.echo(f"token: {token}")


@tokens.command("revoke")
@click.argument("token_id")
@click.option("--user", "actor", default=None, help="Who revokes it (an admin, or its owner).")
@click.pass_obj
def revoke_cmd(rt: Runtime, token_id: str, actor: str | None) -> None:
    """Revoke the token TOKEN_ID: the service refuses it from the next request on."""
    from app.tokens import TokenStore

    store = TokenStore(rt.settings.home)
    by = _may_manage(rt, actor, store.get(token_id).user)
    entry = store.revoke(token_id, by=by)
    click.echo(f"revoked token {entry.id} of {entry.user} ({entry.revoked_at})")


@tokens.command("list")
@click.option("--user", "actor", default=None, help="Who asks (admins see every token).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (no hashes).")
@click.pass_obj
def list_cmd(rt: Runtime, actor: str | None, as_json: bool) -> None:
    """Tokens (id, user, created, revoked): all for an admin, otherwise your own."""
    from app.cli import emit_json
    from app.tokens import TokenStore

    who = rt.user(actor)
    rows = [
        e.public()
        for e in TokenStore(rt.settings.home).list()
        if who.role == "admin" or e.user == who.name
    ]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "active"
        click.echo(f"{r['id']}  {r['user']:<16} {r['created_at']}  {state}")
