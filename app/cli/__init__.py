"""The ``sightline`` command line: one root group; each area adds its commands from its own module.

Errors from Sightline become one clear message on stderr and exit status 1 (usage errors: 2) —
never a traceback.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from app import __version__
from ingestion.errors import SightlineError


class SightlineGroup(click.Group):
    """Root group that turns SightlineError into a clean message and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; report a SightlineError without a traceback."""
        try:
            return super().invoke(ctx)
        except SightlineError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=SightlineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sightline")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Sightline: answers for analysts from data, documents and approved models, with a trail."""
    from app.offline import apply_offline_guards
    from app.runtime import Runtime
    from app.settings import load_settings

    apply_offline_guards()
    try:
        ctx.obj = Runtime(load_settings())
    except SightlineError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)


def emit_json(payload: object) -> None:
    """Print ``payload`` as JSON on stdout (dates and paths as strings)."""
    click.echo(json.dumps(payload, indent=2, default=str, ensure_ascii=False))


def _register() -> None:
    from app.cli import config, data, users

    for command in (data.demo, data.ingest, data.db, users.users, config.settings):
        cli.add_command(command)
    from app.cli.features import features

    cli.add_command(features)
    from app.cli.trail import trail

    cli.add_command(trail)
    from app.cli.models import models

    cli.add_command(models)
    from app.cli import documents

    data.ingest.add_command(documents.ingest_docs)
    cli.add_command(documents.docs)
    cli.add_command(documents.search)
    from app.cli.eval import eval_command

    cli.add_command(eval_command)
    from app.cli.ask import ask

    cli.add_command(ask)
    from app.cli.restricted import restricted

    cli.add_command(restricted)
    from app.cli.batch import batch

    cli.add_command(batch)
    from app.cli.report import report

    cli.add_command(report)
    from app.cli.monitor import monitor

    cli.add_command(monitor)
    from app.cli.broker import broker, features_serve

    cli.add_command(broker)
    features.add_command(features_serve)
    from app.cli.serve import serve
    from app.cli.tokens import tokens

    cli.add_command(serve)
    cli.add_command(tokens)
    from app.cli.digest import digest

    cli.add_command(digest)


_register()


def main() -> None:
    """Console entry point."""
    sys.exit(cli.main(prog_name="sightline", standalone_mode=True))
