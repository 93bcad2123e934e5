"""``sightline features ...``: list, materialize, point-in-time reads, online store replay."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

import click

from app.runtime import Runtime

if TYPE_CHECKING:
    from features.values import FeatureValue

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@click.group()
def features() -> None:
    """Feature store: definitions, batch tables, point-in-time reads, streaming engine."""


@features.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def list_cmd(rt: Runtime, as_json: bool) -> None:
    """Each feature definition with its version and freshness."""
    from app.cli import emit_json
    from features.store import list_features

    with rt.warehouse.reader() as con:
        rows = list_features(con)
    if as_json:
        keys = ("name", "version", "entity_kind", "unit", "description", "fresh_as_of")
        emit_json([{k: row[k] for k in keys} for row in rows])
        return
    click.echo(f"{'feature':<38} {'version':<13} {'entity':<7} {'fresh as of':<11}  unit")
    for row in rows:
        fresh = row["fresh_as_of"] or "-"
        click.echo(
            f"{row['name']:<38} {row['version']:<13} {row['entity_kind']:<7} {fresh:<11}  "
            f"{row['unit']}"
        )


@features.command("materialize")
@click.option(
    "--name", "names", multiple=True, help="Feature to compute (repeatable; default all)."
)
@click.option("--since", type=_DATE, default=None, help="Recompute only values dated >= DATE.")
@click.option(
    "--engine",
    default=None,
    help="Batch engine (default arrays): arrays (compiled kernels over sorted histories), sql "
    "(one DuckDB query per source) or spark (Spark SQL, see --master); same values.",
)
@click.option(
    "--master",
    default=None,
    help="Spark master URL for --engine spark (spark://host:7077, yarn, k8s://..., "
    "local[N]; default local[*]).",
)
@click.option(
    "--staging",
    default=None,
    help="Directory for the spark engine's exported sources and results (default: a temp "
    "dir); on a cluster, a path the driver and every executor share.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of per-feature reports.")
@click.pass_obj
def materialize_cmd(
    rt: Runtime,
    names: tuple[str, ...],
    since: datetime | None,
    engine: str | None,
    master: str | None,
    staging: str | None,
    as_json: bool,
) -> None:
    """Compute feature tables in the warehouse (arrays, sql or spark engine, same values)."""
    from app.cli import emit_json
    from features.batch import materialize
    from features.engines import DEFAULT_ENGINE, engine_for

    runner = engine_for(
        engine or DEFAULT_ENGINE, master=master, staging=staging
    )  # unknown name: InputError
    started = time.monotonic()
    reports = materialize(rt.warehouse, names or None, since=_day(since), engine=runner)
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    for r in reports:
        click.echo(f"{r.feature:<38} {r.version}  {r.rows:>9,} rows", err=True)
    total = sum(r.rows for r in reports)
    click.echo(
        f"materialized {len(reports)} features, {total:,} rows with {runner.name} "
        f"({time.monotonic() - started:.1f}s)"
    )


@features.command("get")
@click.argument("entity")
@click.option("--as-of", "as_of", type=_DATE, default=None, help="Latest values known at DATE.")
@click.option("--name", "names", multiple=True, help="Feature to read (repeatable; default all).")
@click.option("--json", "as_json", is_flag=True, help="Print [{feature, version, as_of, value}].")
@click.pass_obj
def get_cmd(
    rt: Runtime, entity: str, as_of: datetime | None, names: tuple[str, ...], as_json: bool
) -> None:
    """Point-in-time feature values of ENTITY (a ticker, or US for macro features)."""
    from features.store import get_features
    from ingestion.errors import NotFoundError

    with rt.warehouse.reader() as con:
        values = get_features(con, [entity], list(names) or None, _day(as_of))
    if not values:
        when = f" known at {_day(as_of)}" if as_of else ""
        raise NotFoundError(
            f"no feature values for '{entity}'{when}",
            hint="check the ticker (`sightline db tables`) and run `sightline features "
            "materialize`; macro features live under the entity US",
        )
    _show_values(values, as_json)


@features.command("history")
@click.argument("entity")
@click.argument("name")
@click.option("--start", type=_DATE, default=None, help="First as-of date.")
@click.option("--end", type=_DATE, default=None, help="Last as-of date.")
@click.option("--json", "as_json", is_flag=True, help="Print [{as_of, value, version}].")
@click.pass_obj
def history_cmd(
    rt: Runtime,
    entity: str,
    name: str,
    start: datetime | None,
    end: datetime | None,
    as_json: bool,
) -> None:
    """Every stored value of feature NAME for ENTITY, oldest first."""
    from app.cli import emit_json
    from features.store import get_feature_history

    with rt.warehouse.reader() as con:
        values = get_feature_history(con, entity, name, _day(start), _day(end))
    if as_json:
        emit_json(
            [{"as_of": v.as_of.isoformat(), "value": v.value, "version": v.version} for v in values]
        )
        return
    for v in values:
        click.echo(f"{v.as_of}  {v.value:.6g}")
    click.echo(f"{len(values)} values of {name} for {entity}", err=True)


@features.command("stream")
@click.option("--ticker", "tickers", multiple=True, help="Replay only these tickers (repeatable).")
@click.option("--start", type=_DATE, default=None, help="First bar date to replay.")
@click.option("--end", type=_DATE, default=None, help="Last bar date to replay.")
@click.option(
    "--synthetic-quotes",
    type=int,
    default=0,
    show_default=True,
    help="Also feed this many SYNTHETIC quotes (tickers SYN0000...; no real quotes ship).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the engine's event counters.")
@click.pass_obj
def stream_cmd(
    rt: Runtime,
    tickers: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
    synthetic_quotes: int,
    as_json: bool,
) -> None:
    """Replay warehouse events through the streaming engine and publish its online store."""
    from app.cli import emit_json
    from features.events import (
        bars_from_prices,
        filings_from_fundamentals,
        macro_from_table,
    )
    from features.events import (
        synthetic_quotes as make_quotes,
    )
    from features.online import write_online
    from features.streaming import StreamingEngine

    started = time.monotonic()
    engine = StreamingEngine()
    with rt.warehouse.reader() as con:
        bars = bars_from_prices(con, list(tickers) or None, _day(start), _day(end))
        filings = filings_from_fundamentals(con)
        macro = macro_from_table(con, engine.macro_series)
    click.echo(
        f"replaying {len(bars):,} bars, {len(filings):,} filing items, {len(macro):,} macro "
        f"observations",
        err=True,
    )
    engine.process(bars)
    engine.process(filings)
    engine.process(macro)
    if synthetic_quotes:
        engine.process(make_quotes(50, synthetic_quotes))
    engine.flush()
    path = write_online(engine, rt.settings.home / "online")
    summary = {
        "events": dict(engine.stats),
        "entities": len(engine.entities()),
        "online_store": str(path),
        "seconds": round(time.monotonic() - started, 1),
    }
    if as_json:
        emit_json(summary)
        return
    click.echo(f"online store {path}: {summary['entities']} entities; events {summary['events']}")


@features.command("online")
@click.argument("entity")
@click.option("--json", "as_json", is_flag=True, help="Print [{feature, version, as_of, value}].")
@click.pass_obj
def online_cmd(rt: Runtime, entity: str, as_json: bool) -> None:
    """Latest values of ENTITY in the streaming engine's online store."""
    from features.online import read_online
    from ingestion.errors import NotFoundError

    values = read_online(rt.settings.home / "online", entity)
    if not values:
        raise NotFoundError(
            f"no online values for '{entity}'",
            hint="stream it first: `sightline features stream --ticker " + entity + "`",
        )
    _show_values(values, as_json)


def _show_values(values: Sequence[FeatureValue], as_json: bool) -> None:
    """Print feature values as the JSON list {feature, version, as_of, value} or as a table."""
    from app.cli import emit_json

    if as_json:
        emit_json(
            [
                {
                    "feature": v.feature,
                    "version": v.version,
                    "as_of": v.as_of.isoformat(),
                    "value": v.value,
                }
                for v in values
            ]
        )
        return
    for v in values:
        click.echo(f"{v.feature:<38} {v.value:>16.6g}  as of {v.as_of}  ({v.version})")
