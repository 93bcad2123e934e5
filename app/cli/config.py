"""``sightline settings``: every setting with its environment variable, value and help text."""

from __future__ import annotations

import click

from app.runtime import Runtime


@click.command("settings")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def settings(rt: Runtime, as_json: bool) -> None:
    """Show the effective settings and where each comes from (SIGHTLINE_* variables)."""
    from app.cli import emit_json

    rows = [
        {
            "env": f"SIGHTLINE_{name.upper()}",
            "value": getattr(rt.settings, name),
            "help": field.description,
        }
        for name, field in type(rt.settings).model_fields.items()
    ]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['env']:<34} {row['value']!s:<22} {row['help']}")
