"""Decide what an uploaded file is from its bytes (magic numbers), not from its name.

A renamed binary (an executable called ``report.pdf``, a PNG called ``notes.txt``) is refused here,
before any parser sees it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ingestion.documents.errors import DocumentRejected
from ingestion.documents.normalize import bom_encoding

KINDS = ("pdf", "html", "markdown", "text", "xml", "docx")
_TEXT_SUFFIXES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".htm": "html",
    ".html": "html",
    ".xhtml": "html",
    ".xml": "xml",
}
# Well-known binary signatures, named so the rejection says what the file really is.
_BINARY_MAGIC = (
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office (OLE) file"),
)


def sniff_kind(path: Path, head: bytes) -> str:
    """The document kind of ``path`` judged from its first bytes (``head``, >= 8 KiB if present).

    Raises:
        DocumentRejected: the content is not a supported document, or contradicts the extension.
    """
    suffix = path.suffix.lower()
    if head.lstrip()[:5] == b"%PDF-" or b"%PDF-" in head[:1024]:
        return "pdf"
    if suffix == ".pdf":
        raise DocumentRejected(
            f"{path.name} is named .pdf but is not a PDF (no %PDF- header)",
            reason="bad_type",
            hint="upload the original PDF file",
        )
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            raise DocumentRejected(f"{path.name} is {what}, not a document", reason="bad_type")
    if head.startswith(b"PK\x03\x04"):
        if suffix == ".docx" and _is_docx(path):
            return "docx"
        raise DocumentRejected(
            f"{path.name} is a ZIP archive, not a supported document", reason="bad_type"
        )
    if suffix == ".docx":
        raise DocumentRejected(f"{path.name} is named .docx but is not one", reason="bad_type")
    if bom_encoding(head) is None and b"\x00" in head:
        raise DocumentRejected(f"{path.name} looks binary (NUL bytes), not text", reason="bad_type")
    kind = _TEXT_SUFFIXES.get(suffix)
    lowered = head[:2048].lower().replace(b"\x00", b"")
    if kind is None:
        if b"<html" in lowered or b"<!doctype html" in lowered:
            kind = "html"
        elif lowered.lstrip().startswith(b"<?xml"):
            kind = "xml"
        else:
            kind = "text"
    return kind


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
