"""``sightline ask``: one question, one cited answer, recorded in the answer trail first."""

from __future__ import annotations

import click

from app.cli import emit_json


@click.command("ask")
@click.argument("question")
@click.option(
    "--user", "user_name", default=None, help="Ask as this user (default: SIGHTLINE_USER)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer record as JSON.")
@click.pass_obj
def ask(rt, question: str, user_name: str | None, as_json: bool) -> None:  # noqa: ANN001
    """Answer QUESTION from data, documents and approved models, with sources."""
    from app.agent import answer

    user = rt.user(user_name)
    result = answer(rt, question, user)
    if as_json:
        emit_json(result.to_json())
    else:
        click.echo(result.answer)
        if result.citations:
            click.echo("\nSources:")
            for c in result.citations:
                pages = (
                    f"p. {c['page_start']}"
                    if c["page_start"] == c["page_end"]
                    else f"pp. {c['page_start']}-{c['page_end']}"
                )
                click.echo(f"  [{c['n']}] {c['doc_name']}, {pages}")
        used = [f"{k} {v}" for k, v in result.versions.items() if v and k != "code"]
        click.echo(f"\nStatus: {result.status}. Models: {'; '.join(used)}.")
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
    if result.status == "withheld":
        raise click.exceptions.Exit(1)
