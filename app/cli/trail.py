"""``sightline trail``: verify, anchor, list, show, replay, review, export and purge the trail.

What compliance runs, also while the app is appending from another process. Every command acts
for ``--user`` (default ``SIGHTLINE_USER``); roles are checked in ``app.trail.access``.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from app.runtime import Runtime
from app.trail.access import check_read, reads_everyone, require_chain_role, require_compliance
from app.trail.record import ALL_STATUSES, KINDS, REVIEW_STATUSES
from app.trail.replay import RunTool
from app.trail.store import StoredRecord, TrailQuery

USER_OPTION = click.option(
    "--user", "user_name", default=None, help="Act as this user (default: SIGHTLINE_USER)."
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@click.group()
def trail() -> None:
    """The answer trail: verify, anchor, list, show, replay, review, export, purge."""


@trail.command("verify")
@click.option(
    "--anchor",
    "anchor_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also check the trail still holds the head recorded in this anchor file.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=1,
    show_default=True,
    help="Processes that read and hash ranges in parallel (used from 100,000 records on).",
)
@JSON_OPTION
@USER_OPTION
@click.pass_obj
def trail_verify(
    rt: Runtime,
    anchor_path: Path | None,
    workers: int,
    as_json: bool,
    user_name: str | None,
) -> None:
    """Check every record's hash and link; exit 1 naming the first bad record."""
    from app.cli import emit_json
    from app.trail.anchor import read_anchor

    require_chain_role(rt.user(user_name), "verify the answer trail")
    anchor = read_anchor(anchor_path) if anchor_path else None
    result = rt.trail.verify(anchor, workers=workers)
    if as_json:
        emit_json(result.to_json())
    elif result.ok:
        extra = ""
        if anchor is not None and result.anchor is not None:
            extra = (
                f"; {result.anchor['note']}"
                if result.anchor.get("ok") is None
                else f"; matches anchor at position {anchor['seq']}"
            )
        click.echo(
            f"ok: {result.checked} record(s) verified, head at position {result.head.seq} "
            f"({result.head.hash}){extra}"
        )
    else:
        bad = result.first_break
        assert bad is not None
        click.echo(
            f"TAMPERED: first bad record at position {bad.seq}"
            + (f" (id {bad.id})" if bad.id else "")
            + f": {bad.reason}",
            err=True,
        )
        click.echo(f"{result.checked} record(s) before it verified", err=True)
    if not result.ok:
        raise click.exceptions.Exit(1)


@trail.command("anchor")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="File.")
@USER_OPTION
@click.pass_obj
def trail_anchor(rt: Runtime, out: Path, user_name: str | None) -> None:
    """Write the current head (position, count, hash) to FILE for safekeeping."""
    from app.trail.anchor import make_anchor, write_anchor

    user = rt.user(user_name)
    require_chain_role(user, "anchor the answer trail")
    anchor = make_anchor(rt.trail, by=user.name)
    write_anchor(anchor, out)
    click.echo(f"anchored position {anchor['seq']} ({anchor['count']} records) in {out}")


def _line(stored: StoredRecord) -> str:
    r = stored.record
    text = r.get("question") or r.get("note") or ""
    text = " ".join(str(text).split())
    if len(text) > 60:
        text = text[:57] + "..."
    refers = f" -> {r['refers_to'][:12]}" if r.get("refers_to") else ""
    return (
        f"{stored.seq:>6}  {stored.id[:12]}  {str(r.get('time', ''))[:19]}  "
        f"{str(r.get('user', '')):<16} {str(r.get('kind', '')):<10} {str(r.get('status', '')):<10} "
        f"{text}{refers}"
    )


@trail.command("list")
@click.option("--asked-by", default=None, help="Only records of this user (compliance only).")
@click.option("--from", "start", type=DATE, default=None, help="From this day (YYYY-MM-DD, UTC).")
@click.option("--to", "end", type=DATE, default=None, help="Up to this day, inclusive.")
@click.option(
    "--status",
    type=click.Choice(ALL_STATUSES),
    default=None,
    help="Only records with this status.",
)
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default=None,
    help="Only this kind of record (answer, digest, prediction, review, correction, event).",
)
@click.option("--model", default=None, help="Only records whose versions mention this text.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many.")
@click.option(
    "--barrier",
    is_flag=True,
    help="Only answers with barrier events (restricted-list refusals, details.barrier_events).",
)
@JSON_OPTION
@USER_OPTION
@click.pass_obj
def trail_list(
    rt: Runtime,
    asked_by: str | None,
    start: datetime | None,
    end: datetime | None,
    status: str | None,
    kind: str | None,
    model: str | None,
    limit: int | None,
    barrier: bool,
    as_json: bool,
    user_name: str | None,
) -> None:
    """List records (yours; everyone's for compliance), oldest first."""
    from app.cli import emit_json

    viewer = rt.user(user_name)
    if asked_by is not None:
        check_read(viewer, asked_by)
    elif not reads_everyone(viewer):
        asked_by = viewer.name
    records = rt.trail.read(
        TrailQuery(
            user=asked_by,
            kind=kind,
            status=status,
            start=_day(start),
            end=_day(end),
            model=model,
            limit=None if barrier else limit,
        )
    )
    if barrier:  # filtered here: the stores' queries know nothing of record details
        records = [r for r in records if (r.record.get("details") or {}).get("barrier_events")]
        records = records[:limit] if limit else records
    if as_json:
        emit_json([_listed(r) for r in records])
        return
    if not records:
        click.echo("no matching records")
    for stored in records:
        click.echo(_line(stored))


def _listed(stored: StoredRecord) -> dict[str, Any]:
    """One ``list --json`` entry: the stored record, with its ``kind`` alongside the envelope."""
    return {"kind": stored.record.get("kind"), **stored.to_json()}


def _readable(rt: Runtime, record_id: str, user_name: str | None) -> StoredRecord:
    stored = rt.trail.get(record_id)
    check_read(rt.user(user_name), str(stored.record.get("user")))
    return stored


@trail.command("show")
@click.argument("record_id")
@JSON_OPTION
@USER_OPTION
@click.pass_obj
def trail_show(rt: Runtime, record_id: str, as_json: bool, user_name: str | None) -> None:
    """Show one record with its evidence and the reviews that refer to it."""
    from app.cli import emit_json
    from app.trail.review import follow_ups

    stored = _readable(rt, record_id, user_name)
    follow = follow_ups(rt.trail, stored.id)
    if as_json:
        emit_json({**_listed(stored), "follow_ups": [f.to_json() for f in follow]})
        return
    r = stored.record
    click.echo(f"record   {stored.id}  (position {stored.seq}, {r.get('kind')})")
    click.echo(f"asked    {r.get('time')} by {r.get('user')} ({r.get('role')})")
    click.echo(f"status   {r.get('status')}")
    if r.get("refers_to"):
        click.echo(f"refers   {r['refers_to']}")
    for label in ("question", "answer", "note"):
        if r.get(label):
            click.echo(f"{label:<8} {r[label]}")
    for c in r.get("citations") or []:
        click.echo(
            f"cites    {c.get('doc_name') or c.get('doc_id')} p.{c.get('page_start')}-"
            f"{c.get('page_end')} chunk {c.get('chunk_id')} sha256 {c.get('content_sha256')}"
        )
    for call in r.get("tool_calls") or []:
        click.echo(f"tool     {call.get('tool')} {call.get('args')} ({call.get('ms', 0):.0f} ms)")
    for q in r.get("sql") or []:
        click.echo(f"sql      {q.get('query')}  [{q.get('rows')} rows]")
    for f in r.get("feature_values") or []:
        click.echo(
            f"feature  {f.get('entity')} {f.get('feature')} = {f.get('value')} "
            f"(as of {f.get('as_of')}, version {f.get('version')})"
        )
    versions = {k: v for k, v in (r.get("versions") or {}).items() if v}
    if versions:
        click.echo("versions " + ", ".join(f"{k}={v}" for k, v in sorted(versions.items())))
    for w in r.get("warnings") or []:
        click.echo(f"warning  {w}")
    click.echo(f"hash     {stored.hash}")
    for f in follow:
        fr = f.record
        click.echo(
            f"{fr.get('kind'):<8} {f.id[:12]} {fr.get('status')} by {fr.get('user')} at "
            f"{fr.get('time')}: {fr.get('note')}"
        )


def _tool_runner(rt: Runtime) -> RunTool:
    """The agent's ``run_logged_tool`` bound to this runtime (the replay contract)."""
    from app.agent.toolbox import run_logged_tool

    return functools.partial(run_logged_tool, rt)


@trail.command("replay")
@click.argument("record_id")
@JSON_OPTION
@USER_OPTION
@click.pass_obj
def trail_replay(rt: Runtime, record_id: str, as_json: bool, user_name: str | None) -> None:
    """Re-run each logged tool call with the logged inputs and versions; compare outputs."""
    from app.cli import emit_json
    from app.trail.replay import replay_record

    stored = _readable(rt, record_id, user_name)
    report = replay_record(stored, _tool_runner(rt))
    if as_json:
        emit_json(report.to_json())
    else:
        for call in report.calls:
            verdict = "match" if call.match else "MISMATCH"
            click.echo(f"{call.index + 1}. {call.tool} {call.args}: {verdict}")
            if call.difference:
                click.echo(f"   {call.difference}")
        total = len(report.calls)
        matched = sum(c.match for c in report.calls)
        click.echo(f"{matched} of {total} tool call(s) reproduced their logged output")
    if not report.ok:
        raise click.exceptions.Exit(1)


@trail.command("review")
@click.argument("record_id")
@click.option("--status", type=click.Choice(REVIEW_STATUSES), required=True, help="Verdict.")
@click.option("--note", required=True, help="Why: what was checked or what is wrong.")
@USER_OPTION
@click.pass_obj
def trail_review(
    rt: Runtime, record_id: str, status: str, note: str, user_name: str | None
) -> None:
    """Append a compliance review of an answer (a new record; the answer is unchanged)."""
    from app.trail.review import review_answer

    reviewer = rt.user(user_name)
    stored = review_answer(rt.trail, record_id, reviewer=reviewer, status=status, note=note)
    click.echo(f"review {stored.id} recorded at position {stored.seq} ({status})")


@trail.command("export")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="New folder.")
@click.option("--from", "start", type=DATE, default=None, help="From this day (YYYY-MM-DD, UTC).")
@click.option("--to", "end", type=DATE, default=None, help="Up to this day, inclusive.")
@click.option("--asked-by", default=None, help="Only records of this user (compliance only).")
@USER_OPTION
@click.pass_obj
def trail_export(
    rt: Runtime,
    out: Path,
    start: datetime | None,
    end: datetime | None,
    asked_by: str | None,
    user_name: str | None,
) -> None:
    """Export records (JSONL), an evidence pack per answer and a sha256 manifest to --out."""
    from app.trail.export import export_trail

    report = export_trail(
        rt.trail,
        out,
        viewer=rt.user(user_name),
        start=_day(start),
        end=_day(end),
        asked_by=asked_by,
    )
    click.echo(
        f"exported {report.records} record(s) and {report.evidence_packs} evidence pack(s) "
        f"to {report.out}"
    )
    if not report.chain_ok:
        click.echo("warning: the trail does not verify; see manifest.json 'chain'", err=True)


@trail.command("purge")
@click.option("--before", type=DATE, required=True, help="Drop records appended before this day.")
@USER_OPTION
@click.pass_obj
def trail_purge(rt: Runtime, before: datetime, user_name: str | None) -> None:
    """Drop records older than the retention period (refused for younger records)."""
    user = rt.user(user_name)
    require_compliance(user, "purge the answer trail")
    result = rt.trail.purge(
        before.date(),
        user=user.name,
        role=user.role,
        retention_years=rt.settings.trail_retention_years,
    )
    if result["purged"]:
        click.echo(
            f"purged {result['purged']} record(s) up to position {result['through_seq']}; "
            f"event {result['event_id']} records it"
        )
    else:
        click.echo(f"nothing appended before {result['before']}; nothing purged")
