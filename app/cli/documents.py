"""Document commands: ``ingest docs``, ``docs`` (list, delete, retag, reembed, ...), ``search``.

Who may do what is decided here, from the user store (server side): researchers and admins upload,
retag and delete; a researcher may only tag a document with groups they belong to, and only act on
documents they can see. Searches are filtered by the acting user's groups, never by an option.
"""

from __future__ import annotations

from pathlib import Path

import click

from app.runtime import Runtime
from app.users import User
from ingestion.errors import InputError, PermissionDenied

UPLOADERS = ("researcher", "admin")
OVERSIGHT = ("compliance", "admin")


def _split(groups: str) -> list[str]:
    return [g.strip() for g in groups.split(",") if g.strip()]


def _check_uploader(who: User, groups: list[str]) -> None:
    if who.role not in UPLOADERS:
        raise PermissionDenied(
            f"{who.name} ({who.role}) may not manage documents",
            hint="uploads, retags and deletes are for researchers and admins",
        )
    outside = sorted(set(groups) - set(who.groups))
    if outside and who.role != "admin":
        raise PermissionDenied(
            f"{who.name} is not in group(s) {', '.join(outside)}",
            hint="tag documents only with groups you belong to (or ask an admin)",
        )


def _visible_doc(rt: Runtime, who: User, doc_ref: str) -> dict:
    doc = rt.documents.get(doc_ref)
    if who.role != "admin" and not set(doc["access_groups"]) & set(who.groups):
        # Same message as an unknown id: do not confirm that a private-side document exists.
        from ingestion.errors import NotFoundError

        raise NotFoundError(f"no document {doc_ref!r}", hint="see `sightline docs list`")
    return doc


@click.command("docs")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--groups", required=True, help="Access groups, comma-separated (e.g. public).")
@click.option("--issuer", default=None, help="Issuer ticker the document is about.")
@click.option("--doc-date", default=None, help="Document date, YYYY-MM-DD.")
@click.option("--title", default=None, help="Title (one file only; default: from the file).")
@click.option("--doc-type", default=None, help="Document type, e.g. 10-K, research_note.")
@click.option("--user", default=None, help="Who is uploading (default: SIGHTLINE_USER).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file.")
@click.pass_obj
def ingest_docs(
    rt: Runtime,
    paths: tuple[Path, ...],
    groups: str,
    issuer: str | None,
    doc_date: str | None,
    title: str | None,
    doc_type: str | None,
    user: str | None,
    as_json: bool,
) -> None:
    """Upload documents (PDF, HTML, Markdown, text, XML, DOCX) into the document index."""
    who = rt.user(user)
    wanted = _split(groups)
    _check_uploader(who, wanted)
    results = rt.documents.ingest(
        list(paths),
        groups=wanted,
        uploaded_by=who.name,
        title=title,
        issuer=issuer,
        doc_date=doc_date,
        doc_type=doc_type,
        progress=lambda msg: click.echo(msg, err=True),
    )
    if as_json:
        from app.cli import emit_json

        emit_json([r.as_dict() for r in results])
    else:
        for r in results:
            if r.status == "rejected":
                click.echo(f"{r.file}: rejected ({r.reason}): {r.message}; quarantined")
            else:
                extra = (
                    f", supersedes {', '.join(d[:12] for d in r.superseded)}"
                    if r.superseded
                    else ""
                )
                flags = f", flags {r.flags}" if r.flags else ""
                click.echo(
                    f"{r.file}: {r.status} {r.doc_id[:12] if r.doc_id else ''} "
                    f"({r.pages} pages, {r.chunks} chunks, {r.embedded} embedded{extra}{flags})"
                )
    rejected = [r for r in results if r.status == "rejected"]
    if rejected:
        raise InputError(
            f"{len(rejected)} of {len(results)} file(s) rejected and quarantined",
            hint="see `sightline docs quarantine`",
        )


@click.group()
def docs() -> None:
    """List, retag and delete research documents; see their lifecycle events."""


@docs.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include superseded and deleted documents.")
@click.option("--user", default=None, help="Act as this user (default: SIGHTLINE_USER).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def docs_list(rt: Runtime, show_all: bool, user: str | None, as_json: bool) -> None:
    """Documents the user may see (compliance and admins see the whole catalogue)."""
    who = rt.user(user)
    statuses = ("active", "superseded", "deleted") if show_all else ("active",)
    groups = None if who.role in OVERSIGHT else who.groups
    rows = rt.documents.documents(groups=groups, statuses=statuses)
    if as_json:
        from app.cli import emit_json

        emit_json(rows)
        return
    click.echo(f"{'doc_id':<12} {'doc_name':<36} {'pages':>5} {'chunks':>6}  {'groups':<18} status")
    for d in rows:
        click.echo(
            f"{d['doc_id'][:12]:<12} {d['doc_name'][:36]:<36} {d['pages']:>5} {d['chunks']:>6}  "
            f"{','.join(d['access_groups'])[:18]:<18} {d['status']}"
        )


@docs.command("delete")
@click.argument("doc_id")
@click.option("--user", default=None, help="Who is deleting (default: SIGHTLINE_USER).")
@click.pass_obj
def docs_delete(rt: Runtime, doc_id: str, user: str | None) -> None:
    """Delete a document: every chunk leaves both indexes; the deletion is recorded."""
    who = rt.user(user)
    doc = _visible_doc(rt, who, doc_id)
    _check_uploader(who, [])
    gone = rt.documents.delete(doc["doc_id"], actor=who.name)
    click.echo(f"deleted {gone['doc_id'][:12]} {gone['doc_name']} ({gone['chunks']} chunks)")


@docs.command("retag")
@click.argument("doc_id")
@click.option("--groups", required=True, help="New access groups, comma-separated.")
@click.option("--user", default=None, help="Who is retagging (default: SIGHTLINE_USER).")
@click.pass_obj
def docs_retag(rt: Runtime, doc_id: str, groups: str, user: str | None) -> None:
    """Replace a document's access groups (catalogue, keyword and vector index)."""
    who = rt.user(user)
    doc = _visible_doc(rt, who, doc_id)
    wanted = _split(groups)
    _check_uploader(who, wanted)
    done = rt.documents.retag(doc["doc_id"], wanted, actor=who.name)
    click.echo(
        f"retagged {done['doc_id'][:12]} {done['doc_name']}: {','.join(done['access_groups'])}"
    )


@docs.command("reembed")
@click.option("--user", default=None, help="Who is re-embedding (default: SIGHTLINE_USER).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def docs_reembed(rt: Runtime, user: str | None, as_json: bool) -> None:
    """Re-embed stored documents with the current SIGHTLINE_EMBEDDING_BACKEND (after a switch)."""
    who = rt.user(user)
    if who.role != "admin":
        raise PermissionDenied(
            f"{who.name} ({who.role}) may not re-embed the store",
            hint="re-embedding touches every document, every group: ask an admin",
        )
    done = rt.documents.reembed(actor=who.name, progress=lambda msg: click.echo(msg, err=True))
    if as_json:
        from app.cli import emit_json

        emit_json(done)
        return
    version = rt.documents.embedder.version
    click.echo(f"{len(done)} documents re-embedded; the store now uses {version}")


@docs.command("events")
@click.option("--doc", "doc_id", default=None, help="Only events of this doc_id.")
@click.option("--user", default=None, help="Act as this user (default: SIGHTLINE_USER).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def docs_events(rt: Runtime, doc_id: str | None, user: str | None, as_json: bool) -> None:
    """Lifecycle events (upload, supersede, retag, delete, quarantine, flagged), newest first."""
    who = rt.user(user)
    if who.role not in (*OVERSIGHT, "researcher"):
        raise PermissionDenied(f"{who.name} ({who.role}) may not read document events")
    rows = rt.documents.catalogue.events(doc_id=doc_id)
    if as_json:
        from app.cli import emit_json

        emit_json(rows)
        return
    for e in rows:
        click.echo(
            f"{e['at']}  {e['actor']:<12} {e['action']:<10} {(e['doc_id'] or '')[:12]:<12} "
            f"{e['doc_name'] or ''}  {e['detail']}"
        )


@docs.command("quarantine")
@click.option("--user", default=None, help="Act as this user (default: SIGHTLINE_USER).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def docs_quarantine(rt: Runtime, user: str | None, as_json: bool) -> None:
    """Rejected uploads with the reason (copies are kept under documents/quarantine/)."""
    who = rt.user(user)
    if who.role not in (*OVERSIGHT, "researcher"):
        raise PermissionDenied(f"{who.name} ({who.role}) may not read the quarantine")
    rows = rt.documents.catalogue.quarantined()
    if as_json:
        from app.cli import emit_json

        emit_json(rows)
        return
    for q in rows:
        click.echo(
            f"{q['at']}  {q['actor']:<12} {q['file_name']:<32} {q['reason']}: {q['message']}"
        )


@click.command("search")
@click.argument("query")
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 100), help="Passages.")
@click.option("--doc", "doc_name", default=None, help="Only this document (doc_name).")
@click.option("--issuer", default=None, help="Only documents of this issuer.")
@click.option("--from", "date_from", default=None, help="Only documents dated on/after YYYY-MM-DD.")
@click.option("--to", "date_to", default=None, help="Only documents dated on/before YYYY-MM-DD.")
@click.option("--user", default=None, help="Search as this user (default: SIGHTLINE_USER).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def search(
    rt: Runtime,
    query: str,
    k: int,
    doc_name: str | None,
    issuer: str | None,
    date_from: str | None,
    date_to: str | None,
    user: str | None,
    as_json: bool,
) -> None:
    """Hybrid search of the documents the user may see (their groups decide)."""
    who = rt.user(user)
    found = rt.documents.search(
        query,
        groups=who.groups,
        k=k,
        doc_name=doc_name,
        issuer=issuer,
        date_from=date_from,
        date_to=date_to,
    )
    if as_json:
        from app.cli import emit_json

        keys = ("doc_id", "doc_name", "title", "page_start", "page_end", "score", "text")
        emit_json([{key: p.as_dict()[key] for key in keys} for p in found])
        return
    if not found:
        click.echo("no passages found")
    for p in found:
        pages = f"p.{p.page_start}" + (f"-{p.page_end}" if p.page_end != p.page_start else "")
        snippet = " ".join(p.text.split())[:160]
        click.echo(f"{p.score:.4f}  {p.doc_name} {pages}  {snippet}")
