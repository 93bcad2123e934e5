"""``sightline eval``: score quality, safety and speed in one run; store, report, compare, gate.

The harness lives in ``evals.harness`` (the top layer: it may import everything, nothing in the
product imports it). This command is the one entry point that reaches up to it, by module name at
call time, so the product's import graph stays free of evals.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click

from app.cli import emit_json
from app.runtime import Runtime
from ingestion.errors import ConfigError, InputError


def _harness(module: str) -> Any:
    try:
        return importlib.import_module(f"evals.harness.{module}")
    except ImportError as exc:
        # evals/ ships with the source tree (gold sets, probes, thresholds), not every install.
        raise ConfigError(
            f"the evaluation harness is not installed ({exc.name})",
            hint="run `sightline eval` from a source checkout installed with `pip install -e .`",
        ) from exc


def _price(value: str | None) -> tuple[float, float]:
    if not value:
        return (0.0, 0.0)
    try:
        prompt, completion = (float(x) for x in value.split(","))
    except ValueError:
        raise InputError(
            f"--price {value!r}: expected PROMPT,COMPLETION", hint="e.g. --price 0.15,0.60"
        ) from None
    return (prompt, completion)


@click.command(name="eval")
@click.option(
    "--suite",
    "suites",
    multiple=True,
    metavar="NAME",
    help="Suite to run (repeatable): analyst, retrieval, security, sql. Default: all.",
)
@click.option(
    "--llm",
    default=None,
    metavar="BACKEND",
    help="Backend to score: 'offline' or 'openai:MODEL' (default: SIGHTLINE_LLM).",
)
@click.option("--json", "as_json", is_flag=True, help="Print {suites: {SUITE: {METRIC: value}}}.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write run.json and report.html here (default: $SIGHTLINE_HOME/evals/RUN_ID/).",
)
@click.option(
    "--compare",
    nargs=2,
    metavar="RUN_A RUN_B",
    default=None,
    help="Compare two stored runs (ids, folders or run.json files); regressions marked.",
)
@click.option("--gate", is_flag=True, help="Exit 1 when a metric misses evals/thresholds.json.")
@click.option(
    "--retrieval-data",
    type=click.Path(path_type=Path),
    default=None,
    help="FinanceBench folder for the retrieval suite (default: ../shared/data/financebench-dev).",
)
@click.option(
    "--retrieval-docs",
    type=int,
    default=None,
    metavar="N",
    help="Retrieval suite: index and score only the first N filings (the CI gate uses 2).",
)
@click.option(
    "--no-retrieval-baseline",
    is_flag=True,
    help="Retrieval suite: skip the LlamaIndex default-recipe baseline (faster).",
)
@click.option(
    "--price",
    default=None,
    metavar="IN,OUT",
    help="USD per million prompt,completion tokens, for cost per answer (default 0,0).",
)
@click.pass_obj
def eval_command(
    rt: Runtime,
    suites: tuple[str, ...],
    llm: str | None,
    as_json: bool,
    report_dir: Path | None,
    compare: tuple[str, str] | None,
    gate: bool,
    retrieval_data: Path | None,
    retrieval_docs: int | None,
    no_retrieval_baseline: bool,
    price: str | None,
) -> None:
    """Run the evaluation suites and write a JSON + HTML report (or compare two runs)."""
    home = Path(rt.settings.home)
    if compare:
        store, comparison = _harness("store"), _harness("compare")
        result = comparison.compare_runs(
            store.load_run(compare[0], home), store.load_run(compare[1], home)
        )
        if as_json:
            emit_json(result)
        else:
            click.echo(comparison.format_comparison(result))
        return
    backend = llm or rt.settings.llm
    if backend not in ("offline",) and not backend.startswith("openai:"):
        raise InputError(
            f"--llm {backend!r}: evals score 'offline' or 'openai:MODEL'",
            hint="the scripted backend exists for unit tests only",
        )
    runner, store, gates = _harness("runner"), _harness("store"), _harness("gate")
    options: dict[str, Any] = {"price_per_mtok": _price(price)}
    if retrieval_data:
        options["retrieval_data"] = str(retrieval_data)
    if retrieval_docs:
        options["retrieval_docs"] = retrieval_docs
    options["retrieval_baseline"] = not no_retrieval_baseline
    run = runner.run_eval(
        rt,
        suites=list(suites) or None,
        llm=backend,
        say=lambda msg: click.echo(msg, err=True),
        options=options,
    )
    run.gate = gates.check_gate(run)
    directory = report_dir or store.runs_dir(home) / run.run_id
    report = store.save_run(run, directory)
    if as_json:
        emit_json({**run.summary(), "report": str(report)})
    else:
        _print_run(run, report)
    if gate and not run.gate["passed"]:
        raise click.exceptions.Exit(1)


def _print_run(run: Any, report: Path) -> None:
    click.echo(f"eval run {run.run_id} (model {run.model})")
    for name, result in run.suites.items():
        click.echo(
            f"  {name}: {result.status}" + (f" - {result.message}" if result.message else "")
        )
        for metric, value in result.metrics.items():
            shown = f"{value:.4g}" if isinstance(value, float) else value
            click.echo(f"      {metric} = {shown}")
    g = run.gate
    verdict = "passed" if g["passed"] else f"FAILED ({len(g['failures'])} threshold(s) missed)"
    click.echo(f"gate: {verdict}; {g['checked']} checked")
    for f in g["failures"]:
        click.echo(f"  !! {f['suite']}.{f['metric']} = {f['value']} ({f['rule']} {f['bound']})")
    for u in g["unchecked"]:
        click.echo(f"  not checked: {u['suite']} ({u['status']}: {u['why']})")
    click.echo(f"report: {report}")
