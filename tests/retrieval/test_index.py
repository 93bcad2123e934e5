"""The document index end to end, against an embedded Chroma and a real Chroma server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingestion.errors import InputError, NotFoundError
from tests.retrieval.conftest import DEMO_DOCS, write

pytestmark = pytest.mark.slow

NOTE = """# Acme Corp quarterly note

Acme's gross margin widened to 41.2% on lower freight costs.

## Outlook

Management guided revenue of USD 3.4 billion for the next fiscal year.
"""
MEMO = """# Project Falcon

Deal team only: the bridge loan for Falcon is USD 900 million at SOFR + 225 bp.
"""


def test_pdf_search_cites_the_right_page_with_full_metadata(index, tmp_path: Path) -> None:
    pdf = DEMO_DOCS / "MICROSOFT_2023_10K_excerpt.pdf"
    (result,) = index.ingest(
        [pdf], groups=["public"], uploaded_by="researcher", issuer="MSFT", doc_date="2023-07-27"
    )
    assert result.status == "indexed" and result.pages == 15 and result.chunks > 15
    found = index.search("Total revenue Product Service income statement", groups=["public"], k=5)
    assert found and all(p.doc_name == "MICROSOFT_2023_10K_excerpt" for p in found)
    top = found[0]
    assert (
        top.issuer == "MSFT" and top.doc_date == "2023-07-27" and top.access_groups == ("public",)
    )
    assert 1 <= top.page_start == top.page_end <= 15
    # The cited page really holds the passage text (page-accurate chunks).
    from ingestion.documents.sandbox import parse_document

    pages = dict(parse_document(pdf).pages)
    assert top.text.splitlines()[0] in pages[top.page_start]
    # Every chunk in the vector store carries the metadata a citation and a barrier need.
    meta = index.vectors.get_metadata([top.chunk_id])[top.chunk_id]
    for key in (
        "doc_id",
        "doc_name",
        "title",
        "issuer",
        "doc_date",
        "page_start",
        "page_end",
        "acl",
        "uploaded_by",
        "uploaded_at",
        "content_sha256",
        "embedding_model",
    ):
        assert meta[key] not in (None, ""), key
    assert meta["acl"] == "public" and meta["uploaded_by"] == "researcher"


def test_reingest_identical_content_is_a_noop(index, tmp_path: Path) -> None:
    note = write(tmp_path / "acme_note.md", NOTE)
    (first,) = index.ingest([note], groups=["public"], uploaded_by="r")
    count = index.vectors.count()
    (again,) = index.ingest([note], groups=["public"], uploaded_by="r")
    assert first.status == "indexed" and again.status == "unchanged"
    assert index.vectors.count() == count
    assert [e["action"] for e in index.catalogue.events()] == ["upload"]


def test_identical_chunks_are_never_embedded_twice(index, tmp_path: Path) -> None:
    pages = "\f".join(f"{NOTE}\nPage {i} of the Acme note." for i in range(4))  # 4 pages
    (first,) = index.ingest([write(tmp_path / "a.md", pages)], groups=["public"], uploaded_by="r")
    (copy,) = index.ingest(
        [write(tmp_path / "b.md", pages + "\fA new last page.")], groups=["public"], uploaded_by="r"
    )
    assert first.embedded == first.chunks
    assert copy.embedded < copy.chunks  # the unchanged chunks came from the content-hash cache


def test_supersede_hides_old_version_but_keeps_it_resolvable(index, tmp_path: Path) -> None:
    path = write(tmp_path / "v" / "acme_note.md", NOTE)
    (old,) = index.ingest([path], groups=["public"], uploaded_by="r")
    old_passage = index.search("gross margin freight", groups=["public"], k=1)[0]
    write(path, NOTE.replace("41.2%", "39.9%"))
    (new,) = index.ingest([path], groups=["public"], uploaded_by="r")
    assert new.superseded == [old.doc_id]
    found = index.search("gross margin freight", groups=["public"], k=10)
    assert found and {p.doc_id for p in found} == {new.doc_id}
    assert "39.9%" in found[0].text
    # An old citation still resolves (to the old text), for the answer trail.
    (resolved,) = index.resolve([old_passage.chunk_id], groups=["public"])
    assert "41.2%" in resolved.text and resolved.doc_id == old.doc_id
    statuses = {
        d["doc_id"]: d["status"] for d in index.documents(statuses=("active", "superseded"))
    }
    assert statuses == {old.doc_id: "superseded", new.doc_id: "active"}
    actions = [e["action"] for e in index.catalogue.events()]
    assert "supersede" in actions


def test_delete_removes_every_chunk_from_both_indexes(index, tmp_path: Path) -> None:
    (doc,) = index.ingest(
        [write(tmp_path / "falcon.md", MEMO)], groups=["deal-team"], uploaded_by="r"
    )
    (keep,) = index.ingest([write(tmp_path / "acme.md", NOTE)], groups=["public"], uploaded_by="r")
    assert index.search("Falcon bridge loan", groups=["deal-team"], k=3)
    index.delete(doc.doc_id, actor="compliance-officer")
    assert index.search(
        "Falcon bridge loan SOFR", groups=["deal-team", "public"], k=10
    ) == [] or all(
        p.doc_id == keep.doc_id
        for p in index.search("Falcon bridge loan", groups=["deal-team", "public"])
    )
    assert index.vectors.get_metadata([f"{doc.doc_id[:16]}-00000"]) == {}
    assert index.vectors.count() == keep.chunks
    assert (
        index.catalogue.keyword_search("Falcon", acls=["deal-team"], doc_ids=None, limit=10) == []
    )
    (event,) = [e for e in index.catalogue.events() if e["action"] == "delete"]
    assert event["actor"] == "compliance-officer" and event["doc_id"] == doc.doc_id and event["at"]
    with pytest.raises(NotFoundError):
        index.delete(doc.doc_id, actor="x")


def test_retag_moves_a_document_across_the_barrier(index, tmp_path: Path) -> None:
    (doc,) = index.ingest(
        [write(tmp_path / "falcon.md", MEMO)], groups=["deal-team"], uploaded_by="r"
    )
    assert index.search("Falcon bridge loan", groups=["public"]) == []
    index.retag(doc.doc_id, ["public"], actor="admin")
    assert index.search("Falcon bridge loan", groups=["public"])
    assert index.search("Falcon bridge loan", groups=["deal-team"]) == []
    meta = index.vectors.get_metadata([f"{doc.doc_id[:16]}-00000"])
    assert {m["acl"] for m in meta.values()} == {"public"}


def test_metadata_filters(index, tmp_path: Path) -> None:
    index.ingest(
        [write(tmp_path / "acme_2023.md", NOTE)],
        groups=["public"],
        uploaded_by="r",
        issuer="ACME",
        doc_date="2023-05-01",
    )
    index.ingest(
        [write(tmp_path / "acme_2024.md", NOTE + "\nUpdated.")],
        groups=["public"],
        uploaded_by="r",
        issuer="ACME",
        doc_date="2024-05-01",
    )
    index.ingest(
        [write(tmp_path / "falcon.md", MEMO)],
        groups=["public"],
        uploaded_by="r",
        issuer="FALC",
        doc_date="2023-06-01",
    )
    q = "gross margin revenue guidance bridge loan"
    assert {p.doc_name for p in index.search(q, groups=["public"], doc_name="acme_2024")} == {
        "acme_2024"
    }
    assert {p.issuer for p in index.search(q, groups=["public"], issuer="falc")} == {"FALC"}
    dated = index.search(q, groups=["public"], date_from="2023-01-01", date_to="2023-12-31")
    assert {p.doc_name for p in dated} == {"acme_2023", "falcon"}
    assert index.search(q, groups=["public"], doc_name="nope") == []
    with pytest.raises(InputError):
        index.search(q, groups=["public"], date_from="yesterday")


def test_a_document_without_groups_is_rejected(index, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="access group"):
        index.ingest([write(tmp_path / "x.md", NOTE)], groups=[], uploaded_by="r")
    with pytest.raises(InputError, match="invalid access group"):
        index.ingest([write(tmp_path / "x.md", NOTE)], groups=["Public Side!"], uploaded_by="r")
    assert index.vectors.count() == 0 and index.documents() == []


def test_many_files_in_one_call_parse_in_parallel(index, tmp_path: Path) -> None:
    files = [
        shutil.copy(DEMO_DOCS / n, tmp_path / n)
        for n in ("PEPSICO_2022_10K_excerpt.pdf", "jpm_public_note.md", "deal_team_memo.md")
    ]
    results = index.ingest([Path(f) for f in files], groups=["public"], uploaded_by="r")
    assert [r.status for r in results] == ["indexed"] * 3
    assert {d["doc_name"] for d in index.documents()} == {Path(f).stem for f in files}
