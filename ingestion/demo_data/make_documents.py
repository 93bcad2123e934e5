"""Build the demo filing excerpts in ``documents/`` and their ``manifest.json``.

A build-time tool for developers; the product never runs it. It reads the issuers' public filings
from ``/work/shared/data/financebench-dev`` (or the folder given as the first argument), copies a
chosen subset of real pages of each into ``documents/<DOC>_excerpt.pdf`` with pypdf, and writes
``documents/manifest.json`` describing those excerpts and the two hand-written demo notes. Only the
issuers' own pages are copied: nothing of the benchmark's questions, answers or annotations.

    python ingestion/demo_data/make_documents.py [FINANCEBENCH_DIR]
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "documents"
DEFAULT_SOURCE_DIR = Path("/work/shared/data/financebench-dev")


@dataclass(frozen=True)
class Excerpt:
    """Which pages of one filing go into the demo, and how the filing is described."""

    doc: str
    title: str
    issuer: str
    company: str
    form: str
    period: str
    doc_date: str  # the date the filing was signed (signatures page)
    pages: tuple[int, ...]  # 1-based pages of the original PDF


def _span(first: int, last: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1))


EXCERPTS: tuple[Excerpt, ...] = (
    Excerpt(
        doc="MICROSOFT_2023_10K",
        title="Microsoft 10-K FY2023 (excerpt): risk factors on competition, AI and security; "
        "MD&A overview; income statement and balance sheet",
        issuer="MSFT",
        company="Microsoft Corporation",
        form="10-K",
        period="fiscal year ended June 30, 2023",
        doc_date="2023-07-27",
        pages=(1, *_span(23, 29), *_span(40, 44), 58, 60),
    ),
    Excerpt(
        doc="PEPSICO_2022_10K",
        title="PepsiCo 10-K FY2022 (excerpt): Russia-Ukraine risk factors; MD&A on supply "
        "chain, inflation and results; income statement and balance sheet",
        issuer="PEP",
        company="PepsiCo, Inc.",
        form="10-K",
        period="fiscal year ended December 31, 2022",
        doc_date="2023-02-08",
        pages=(1, 2, 13, 14, *_span(31, 36), 40, 41, 62, 66),
    ),
    Excerpt(
        doc="PFIZER_2021_10K",
        title="Pfizer 10-K FY2021 (excerpt): risk factors on COVID-19 products; MD&A overview; "
        "Comirnaty revenue; income statement and balance sheet",
        issuer="PFE",
        company="Pfizer Inc.",
        form="10-K",
        period="fiscal year ended December 31, 2021",
        doc_date="2022-02-24",
        pages=(1, *_span(19, 22), *_span(32, 36), 41, 57, 59),
    ),
    Excerpt(
        doc="JOHNSON_JOHNSON_2022_10K",
        title="Johnson & Johnson 10-K FY2022 (excerpt): risk factors; MD&A on sales and "
        "earnings; talc litigation; income statement and balance sheet",
        issuer="JNJ",
        company="Johnson & Johnson",
        form="10-K",
        period="fiscal year ended January 1, 2023",
        doc_date="2023-02-16",
        pages=(1, 2, 14, 27, 28, 34, 46, 47, *_span(92, 95)),
    ),
    Excerpt(
        doc="JPMORGAN_2023Q2_10Q",
        title="JPMorgan Chase 10-Q Q2 2023 (excerpt): executive overview; First Republic "
        "acquisition; results and balance sheet analysis; income statement and balance sheet",
        issuer="JPM",
        company="JPMorgan Chase & Co.",
        form="10-Q",
        period="quarter ended June 30, 2023",
        doc_date="2023-08-03",
        pages=(1, 3, 4, 5, 6, 9, 10, 11, 16, 17, 18, 96, 98),
    ),
)

NOTES: tuple[dict[str, object], ...] = (
    {
        "file": "jpm_public_note.md",
        "title": "JPMorgan Chase: Q2 2023 review after the First Republic deal (demo note)",
        "issuer": "JPM",
        "doc_date": "2023-08-10",
        "doc_type": "research_note",
        "access_groups": ["public"],
        "source": "Synthetic demo content written for Sightline; not investment research.",
        "pages_kept": [],
    },
    {
        "file": "deal_team_memo.md",
        "title": "Project Bluebird: confidential financing memo (demo, deal team only)",
        "issuer": "BBY",
        "doc_date": "2023-03-20",
        "doc_type": "memo",
        "access_groups": ["deal-team"],
        "source": "Synthetic demo content written for Sightline; the deal is fictitious.",
        "pages_kept": [],
    },
)


def _links(source_dir: Path) -> dict[str, str]:
    """doc_name -> the issuer's link recorded in documents.jsonl."""
    links = {}
    for line in (source_dir / "documents.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            links[record["doc_name"]] = record["doc_link"]
    return links


def write_excerpt(excerpt: Excerpt, source_dir: Path) -> Path:
    """Copy the chosen pages of one filing into documents/<DOC>_excerpt.pdf."""
    import pypdf

    reader = pypdf.PdfReader(source_dir / "pdfs" / f"{excerpt.doc}.pdf")
    writer = pypdf.PdfWriter()
    for page in excerpt.pages:
        writer.add_page(reader.pages[page - 1])
    writer.add_metadata({"/Title": excerpt.title, "/Subject": f"Pages {list(excerpt.pages)}"})
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    target = OUT_DIR / f"{excerpt.doc}_excerpt.pdf"
    with target.open("wb") as handle:
        writer.write(handle)
    return target


def manifest_entry(excerpt: Excerpt, link: str) -> dict[str, object]:
    """The manifest record of one excerpt."""
    return {
        "file": f"{excerpt.doc}_excerpt.pdf",
        "title": excerpt.title,
        "issuer": excerpt.issuer,
        "doc_date": excerpt.doc_date,
        "doc_type": excerpt.form,
        "access_groups": ["public"],
        "source": f"{excerpt.company}, Form {excerpt.form}, {excerpt.period}; {link}",
        "pages_kept": list(excerpt.pages),
    }


def _inline_lists(text: str) -> str:
    """Put short JSON lists (page numbers, access groups) on one line for readable diffs."""
    return re.sub(
        r"\[\s+([^\[\]{}]*?)\s+\]",
        lambda m: "[" + ", ".join(part.strip() for part in m.group(1).split(",")) + "]",
        text,
    )


def main() -> None:
    """Write every excerpt PDF and the manifest."""
    source_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE_DIR
    links = _links(source_dir)
    OUT_DIR.mkdir(exist_ok=True)
    entries: list[dict[str, object]] = []
    for excerpt in EXCERPTS:
        path = write_excerpt(excerpt, source_dir)
        entries.append(manifest_entry(excerpt, links[excerpt.doc]))
        print(f"{path.name}: {len(excerpt.pages)} pages, {path.stat().st_size:,} bytes")
    entries.extend(NOTES)
    manifest = _inline_lists(json.dumps(entries, indent=2, ensure_ascii=False)) + "\n"
    (OUT_DIR / "manifest.json").write_text(manifest, encoding="utf-8")


if __name__ == "__main__":
    main()
