"""``sightline digest``: what changed between an issuer's comparable filings, recorded first."""

from __future__ import annotations

import click

from app.cli import emit_json


@click.command("digest")
@click.option(
    "--issuer", default=None, help="Issuer (ticker as catalogued); omit for a collection."
)
@click.option("--since", default=None, help="Only filings dated on or after (YYYY-MM-DD).")
@click.option("--docs", multiple=True, help="Only these documents (doc_name); repeatable.")
@click.option("--json", "as_json", is_flag=True, help='Print {"items": [...]} as JSON.')
@click.option("--user", "user_name", default=None, help="As this user (default: SIGHTLINE_USER).")
@click.pass_obj
def digest(  # noqa: ANN001
    rt, issuer: str | None, since: str | None, docs: tuple[str, ...], as_json: bool,
    user_name: str | None,
) -> None:  # fmt: skip
    """Risk factors, figures and MD&A that changed, each cited to its page in both filings."""
    from app.digest import run_digest
    from retrieval.ingest import check_date

    result = run_digest(rt, rt.user(user_name), issuer=issuer, since=check_date(since), docs=docs)
    if as_json:
        emit_json({"items": result["items"], "id": result["id"], "filings": result["filings"]})
        return
    click.echo(f"Filings: {', '.join(result['filings'])}")
    click.echo(result["text"])
    click.echo(f"\nRecorded as {result['id']}.")
