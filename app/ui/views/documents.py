"""Documents page (researcher): upload with access groups, list, search, delete, supersede.

Uploads go through ``rt.documents.ingest`` (type by magic bytes, size and page caps, parsing in a
sandboxed child process, quarantine on rejection). A researcher may tag a document only with
access groups they belong to, so nobody can push a document across an information barrier they
are not inside; an administrator may use any group.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app.runtime import Runtime
from app.ui.guard import require
from app.ui.sanitize import escape_markdown
from app.users import User
from ingestion.errors import PermissionDenied

TYPES = ["pdf", "html", "htm", "md", "markdown", "txt"]
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\-]+")


def safe_file_name(name: str) -> str:
    """The uploaded file's base name with anything but letters, digits, ``._-`` replaced by ``_``.

    The document name (``doc_name``) is this file's stem, so the name must survive intact enough
    for supersede-by-name to work, but no path or odd character may reach the filesystem.
    """
    base = Path(name.replace("\\", "/")).name
    cleaned = _SAFE_NAME.sub("_", base).strip("._") or "document"
    return cleaned[:120]


def taggable_groups(rt: Runtime, user: User) -> list[str]:
    """The access groups ``user`` may tag a document with."""
    if user.role == "admin":
        return sorted({g for u in rt.users.list() for g in u.groups})
    return list(user.groups)


def visible_groups(rt: Runtime, user: User) -> list[str] | None:
    """Groups whose documents ``user`` may list (None: all, for an administrator)."""
    return None if user.role == "admin" else list(user.groups)


def render(rt: Runtime, user: User) -> None:
    """Render the documents page for ``user`` (researcher or admin)."""
    require(user, "documents.view")
    st.header("Documents")
    _upload(rt, user)
    _listing(rt, user)
    _search(rt, user)


def _upload(rt: Runtime, user: User) -> None:
    limit_mb = rt.settings.upload_max_mb
    with st.form("upload", clear_on_submit=True):
        st.subheader("Upload")
        st.caption(
            f"PDF, HTML, Markdown or text, up to {limit_mb} MB and "
            f"{rt.settings.upload_max_pages:,} pages. A file with the same name as an existing "
            "document supersedes it (old citations still resolve)."
        )
        upload = st.file_uploader("Document", type=TYPES, key="upload_file")
        groups = taggable_groups(rt, user)
        c1, c2 = st.columns(2)
        chosen = c1.multiselect(
            "Access groups (who may see it)", groups, default=["public"][: "public" in groups],
            key="upload_groups",
        )  # fmt: skip
        title = c2.text_input("Title (optional)", key="upload_title")
        c3, c4 = st.columns(2)
        issuer = c3.text_input("Issuer ticker (optional)", key="upload_issuer")
        doc_date = c4.date_input("Document date (optional)", value=None, key="upload_date")
        submitted = st.form_submit_button("Upload and index", type="primary")
    if submitted:
        require(user, "documents.upload")
        if upload is None:
            st.error("Choose a file to upload.")
            return
        _ingest(rt, user, upload, chosen, title, issuer, doc_date)
    for level, message in st.session_state.pop("upload_messages", []):
        getattr(st, level)(message)


def _ingest(
    rt: Runtime,
    user: User,
    upload: Any,
    groups: list[str],
    title: str,
    issuer: str,
    doc_date: date | None,
) -> None:
    allowed = set(taggable_groups(rt, user))
    outside = [g for g in groups if g not in allowed]
    if outside:
        raise PermissionDenied(
            f"{user.name} may not tag documents with {', '.join(outside)}",
            hint="choose access groups you belong to",
        )
    if not groups:
        st.error("Choose at least one access group: untagged documents are refused.")
        return
    data = upload.getvalue()
    if len(data) > rt.settings.upload_max_mb * 1024 * 1024:
        st.error(
            f"{upload.name} is larger than {rt.settings.upload_max_mb} MB; nothing was stored."
        )
        return
    bar = st.progress(0.05, text=f"Saving {upload.name}…")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / safe_file_name(upload.name)
        path.write_bytes(data)
        bar.progress(0.15, text="Checking, parsing (sandboxed), chunking, embedding…")

        def say(message: str) -> None:
            bar.progress(0.9, text=message)

        results = rt.documents.ingest(  # type: ignore[attr-defined]
            [path],
            groups=groups,
            uploaded_by=user.name,
            title=title.strip() or None,
            issuer=issuer.strip().upper() or None,
            doc_date=doc_date.isoformat() if doc_date else None,
            progress=say,
        )
    bar.progress(1.0, text="Done")
    messages = []
    for result in results:
        name = escape_markdown(result.doc_name or "")
        if result.status == "indexed":
            superseded = (
                f"; supersedes {len(result.superseded)} earlier version(s)"
                if result.superseded
                else ""
            )
            messages.append(
                (
                    "success",
                    f"Indexed {name}: {result.pages} page(s), {result.chunks} "
                    f"chunk(s), visible to {', '.join(groups)}{superseded}.",
                )
            )
        elif result.status == "unchanged":
            messages.append(
                (
                    "info",
                    f"{name} is already indexed; nothing changed.",
                )
            )
        else:
            messages.append(
                (
                    "error",
                    f"Rejected {escape_markdown(upload.name)}: "
                    f"{escape_markdown(result.message or result.reason or '')}. The file was "
                    "quarantined and nothing was indexed.",
                )
            )
    st.session_state["upload_messages"] = messages
    st.rerun()


def _listing(rt: Runtime, user: User) -> None:
    st.subheader("Documents you can see")
    docs = rt.documents.documents(  # type: ignore[attr-defined]
        groups=visible_groups(rt, user), statuses=("active", "superseded")
    )
    if not docs:
        st.info("No documents yet.")
        return
    frame = pd.DataFrame(docs)
    frame["access_groups"] = frame["access_groups"].map(", ".join)
    columns = [
        "doc_name", "title", "issuer", "doc_date", "pages", "chunks", "access_groups",
        "status", "uploaded_by", "uploaded_at", "doc_id",
    ]  # fmt: skip
    st.dataframe(frame[[c for c in columns if c in frame]], hide_index=True, width="stretch")
    active = [d for d in docs if d["status"] == "active"]
    if not active:
        return
    with st.expander("Delete a document", icon=":material/delete:"):
        names = {d["doc_id"]: f"{d['doc_name']} ({d['doc_id'][:12]})" for d in active}
        doc_id = st.selectbox(
            "Document", list(names), format_func=lambda i: names[i], key="delete_doc"
        )
        sure = st.checkbox("Remove every chunk of it from both indexes", key="delete_sure")
        if st.button("Delete", disabled=not sure, key="delete_button", icon=":material/delete:"):
            require(user, "documents.delete")
            doc = rt.documents.get(doc_id)  # type: ignore[attr-defined]
            visible = visible_groups(rt, user)
            if visible is not None and not set(visible) & set(doc["access_groups"]):
                raise PermissionDenied(f"{user.name} may not delete {doc['doc_name']}")
            rt.documents.delete(doc_id, actor=user.name)  # type: ignore[attr-defined]
            st.session_state["upload_messages"] = [
                (
                    "success",
                    f"Deleted {escape_markdown(doc['doc_name'])}; its chunks are gone from both "
                    "indexes.",
                )
            ]
            st.rerun()


def _search(rt: Runtime, user: User) -> None:
    st.subheader("Search")
    query = st.text_input("Search the documents you can see", key="doc_search")
    if not query.strip():
        return
    passages = rt.documents.search(query, groups=user.groups, k=10)  # type: ignore[attr-defined]
    if not passages:
        st.info("No passage matches.")
        return
    for p in passages:
        pages = (
            f"p. {p.page_start}"
            if p.page_start == p.page_end
            else f"pp. {p.page_start}–{p.page_end}"
        )
        with st.expander(f"{escape_markdown(p.doc_name)}, {pages} · score {p.score:.3f}"):
            st.text(p.text)
