"""Parsers: one function per document kind, bytes on disk -> cleaned text per page.

These run inside the sandboxed worker (``worker.py``), never in the application process: a
malicious PDF may exhaust memory or crash the C library that reads it, and only the worker dies.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.documents.errors import DocumentRejected
from ingestion.documents.normalize import TextFlags, clean_text, decode_text

MAX_XML_PART_BYTES = 64 * 1024 * 1024  # a DOCX part larger than this is a zip bomb, not a memo
_ENTITY_RE = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HIDDEN_STYLE_RE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])"
    r"|(?<![-\w])color\s*:\s*(?:#fff(?:fff)?\b|white\b|rgba?\(\s*255\s*,\s*255\s*,\s*255)"
    r"|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$)",
    re.IGNORECASE,
)
_HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_SCRIPT_RE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


@dataclass
class ParsedDocument:
    """What a parser returns: kind, a title if the file names one, pages and flags."""

    kind: str
    pages: list[tuple[int, str]]  # (1-based page number, cleaned text)
    title: str | None = None
    encoding: str | None = None
    flags: TextFlags = field(default_factory=TextFlags)

    def as_json(self) -> dict[str, object]:
        """A JSON-serialisable form (the worker's reply)."""
        return {
            "kind": self.kind,
            "pages": self.pages,
            "title": self.title,
            "encoding": self.encoding,
            "flags": self.flags.as_dict(),
        }


def parse_file(
    path: Path, kind: str, *, max_pages: int, pdf_engine: str = "pdfium"
) -> ParsedDocument:
    """Parse ``path`` as ``kind`` (from ``sniff.sniff_kind``) into cleaned pages.

    Raises:
        DocumentRejected: too many pages, a password, entity declarations, unreadable content.
    """
    if kind == "pdf":
        if pdf_engine == "pypdf":
            return parse_pdf_pypdf(path, max_pages=max_pages)
        return parse_pdf(path, max_pages=max_pages)
    if kind == "docx":
        return parse_docx(path)
    data = path.read_bytes()
    if kind in ("html", "xml") and _ENTITY_RE.search(data):
        raise DocumentRejected(
            f"{path.name} declares XML entities; they are not allowed (XXE / billion laughs)",
            reason="entities",
            hint="remove the <!ENTITY ...> declarations and upload again",
        )
    flags = TextFlags()
    try:
        text, encoding = decode_text(data, flags)
    except ValueError as exc:
        raise DocumentRejected(f"{path.name}: {exc}", reason="bad_type") from exc
    if kind == "html":
        pages, title = [(1, _html_text(text, flags))], _html_title(text)
    elif kind == "xml":
        pages, title = [(1, _xml_text(text, path))], None
    else:
        if kind == "markdown":
            text = _strip_hidden_markup(text, flags)
        # A form feed is a page break in text dumps of filings: keep the page numbers.
        pages, title = list(enumerate(text.split("\f"), start=1)), None
    cleaned = [(number, clean_text(page, flags)) for number, page in pages]
    if kind == "markdown" and title is None:
        title = _markdown_title(cleaned)
    elif kind == "text" and title is None:
        title = _text_title(cleaned)
    return ParsedDocument(kind, cleaned, title=title, encoding=encoding, flags=flags)


def _too_many_pages(path: Path, pages: int, max_pages: int) -> DocumentRejected:
    return DocumentRejected(
        f"{path.name} has {pages:,} pages; at most {max_pages:,} are accepted",
        reason="too_many_pages",
        hint="split the document or raise SIGHTLINE_UPLOAD_MAX_PAGES",
    )


def parse_pdf(path: Path, *, max_pages: int) -> ParsedDocument:
    """Extract per-page text with PDFium (pypdfium2): several times faster than pypdf here."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise DocumentRejected(
                f"{path.name} is encrypted with a password",
                reason="encrypted",
                hint="upload an unencrypted copy (PDFs with an empty user password are accepted)",
            ) from exc
        raise DocumentRejected(
            f"{path.name} is not a readable PDF ({exc})", reason="parse_failed"
        ) from exc
    try:
        count = len(pdf)
        if count > max_pages:
            raise _too_many_pages(path, count, max_pages)
        flags = TextFlags()
        pages = []
        for index in range(count):
            page = pdf[index]
            textpage = page.get_textpage()
            pages.append((index + 1, clean_text(textpage.get_text_range(), flags)))
            textpage.close()
            page.close()
        title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
    finally:
        pdf.close()
    return ParsedDocument("pdf", pages, title=title, flags=flags)


def parse_pdf_pypdf(path: Path, *, max_pages: int) -> ParsedDocument:
    """Extract per-page text with pypdf (the slower reference parser, kept for benchmarks)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentRejected(f"{path.name} is encrypted with a password", reason="encrypted")
        if len(reader.pages) > max_pages:
            raise _too_many_pages(path, len(reader.pages), max_pages)
        flags = TextFlags()
        pages = [
            (i + 1, clean_text(page.extract_text() or "", flags))
            for i, page in enumerate(reader.pages)
        ]
    except PyPdfError as exc:
        raise DocumentRejected(
            f"{path.name} is not a readable PDF ({exc})", reason="parse_failed"
        ) from exc
    title = str(reader.metadata.get("/Title") or "").strip() or None if reader.metadata else None
    return ParsedDocument("pdf", pages, title=title, flags=flags)


def _strip_hidden_markup(text: str, flags: TextFlags) -> str:
    text, n = _HTML_COMMENT_RE.subn("", text)
    flags.add("hidden_elements", n)
    text, n = _SCRIPT_RE.subn("", text)
    flags.add("scripts", n)
    return text


def _html_title(text: str) -> str | None:
    match = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    return " ".join(match.group(1).split()) or None if match else None


def _html_text(text: str, flags: TextFlags) -> str:
    """Visible text of an HTML page: scripts, comments, hidden elements removed; tables as rows."""
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(text, "html.parser")
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
        flags.add("hidden_elements", 1)
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "embed"]):
        tag.decompose()
        flags.add("scripts", 1)
    for tag in soup.find_all(True):
        if tag.decomposed or tag.attrs is None:
            continue
        style = str(tag.get("style") or "")
        if (
            tag.has_attr("hidden")
            or str(tag.get("aria-hidden", "")).lower() == "true"
            or _HIDDEN_STYLE_RE.search(style)
        ):
            tag.decompose()
            flags.add("hidden_elements", 1)
    if soup.head is not None:
        soup.head.decompose()
    for row in soup.find_all("tr"):
        cells = [" ".join(c.get_text(" ").split()) for c in row.find_all(["td", "th"])]
        row.replace_with("\n" + " | ".join(c for c in cells if c) + "\n")
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(
                "\n" + "#" * level + " " + " ".join(heading.get_text(" ").split()) + "\n"
            )
    return soup.get_text("\n")


def _xml_text(text: str, path: Path) -> str:
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(text.encode("utf-8"), forbid_dtd=True)
    except (DefusedXmlException, SafeET.ParseError) as exc:
        raise DocumentRejected(
            f"{path.name} is not safe, well-formed XML ({exc})", reason="entities"
        ) from exc
    return "\n".join(t.strip() for t in root.itertext() if t.strip())


def _markdown_title(pages: list[tuple[int, str]]) -> str | None:
    for _, text in pages:
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip() or None
    return None


def _text_title(pages: list[tuple[int, str]]) -> str | None:
    """A plain-text note's title: its first line, when short and followed by a blank line."""
    lines = pages[0][1].splitlines() if pages else []
    if len(lines) >= 2 and 0 < len(lines[0].strip()) <= 120 and not lines[1].strip():
        return lines[0].strip()
    return None


def parse_docx(path: Path) -> ParsedDocument:
    """Paragraphs and table rows of a DOCX body (one page: Word files carry no page breaks)."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_XML_PART_BYTES:
                raise DocumentRejected(
                    f"{path.name}: the document body expands to {info.file_size:,} bytes",
                    reason="too_large",
                )
            root = SafeET.fromstring(archive.read(info), forbid_dtd=True)
    except (zipfile.BadZipFile, KeyError, DefusedXmlException, SafeET.ParseError) as exc:
        raise DocumentRejected(
            f"{path.name} is not a readable DOCX ({exc})", reason="parse_failed"
        ) from exc
    lines: list[str] = []
    body = root.find(f"{ns}body")
    for block in list(body) if body is not None else []:
        if block.tag == f"{ns}tbl":
            for row in block.iter(f"{ns}tr"):
                cells = [
                    "".join(t.text or "" for t in cell.iter(f"{ns}t"))
                    for cell in row.iter(f"{ns}tc")
                ]
                lines.append(" | ".join(c.strip() for c in cells if c.strip()))
        elif block.tag == f"{ns}p":
            text = "".join(t.text or "" for t in block.iter(f"{ns}t"))
            style = block.find(f"{ns}pPr/{ns}pStyle")
            level = str(style.get(f"{ns}val", "")) if style is not None else ""
            if level.lower().startswith("heading") and level[-1:].isdigit():
                text = "#" * int(level[-1]) + " " + text
            lines.append(text)
    flags = TextFlags()
    return ParsedDocument("docx", [(1, clean_text("\n".join(lines), flags))], flags=flags)
