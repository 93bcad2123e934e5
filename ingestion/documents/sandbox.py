"""Parse an uploaded file safely: size and type checks here, parsing in a limited child process.

The parent process (the CLI or the app) never opens the file with a parser. It checks the size,
sniffs the type from the magic bytes, then runs ``worker.py`` with ``resource.setrlimit`` limits on
address space, CPU time and file writes, plus a wall-clock timeout. Whatever the file does to the
parser (decompression bomb, endless page tree, segfault in the C library), the worst outcome is a
dead child and a ``DocumentRejected``.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ingestion.documents.errors import DocumentRejected
from ingestion.documents.normalize import TextFlags
from ingestion.documents.parsers import ParsedDocument
from ingestion.documents.sniff import sniff_kind


@dataclass(frozen=True)
class ParseLimits:
    """Limits for one upload; the defaults match the settings' defaults."""

    max_bytes: int = 25 * 1024 * 1024
    max_pages: int = 2000
    timeout_s: float = 60.0
    memory_mb: int = 512
    pdf_engine: str = "pdfium"


def _limit_child(memory_mb: int, cpu_s: int) -> None:
    # Runs in the child between fork and exec: address space caps RSS too, CPU time stops a
    # spinning parser even if the wall-clock timer were missed, and the child may write no files.
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def parse_document(path: Path, limits: ParseLimits = ParseLimits()) -> ParsedDocument:  # noqa: B008
    """Check and parse ``path`` in a sandboxed child process.

    Args:
        path: the uploaded file.
        limits: size, page, time and memory limits.

    Returns:
        The parsed document (cleaned text per page, flags).

    Raises:
        DocumentRejected: with a ``reason`` code; the file was not parsed, or parsing failed.
    """
    path = Path(path)
    kind = _precheck(path, limits)
    done = _run_worker(path, kind, limits)
    reply = _reply(done)
    if reply is None:
        status = done.returncode
        why = f"signal {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"
        raise DocumentRejected(
            f"the parser for {path.name} was stopped ({why}): the file exceeded the memory or "
            f"time limit, or crashed the parser",
            reason="parse_killed",
        )
    if not reply.get("ok"):
        raise DocumentRejected(
            str(reply.get("message")), reason=str(reply.get("reason") or "parse_failed")
        )
    parsed = _decoded(reply["document"])
    if not any(text.strip() for _, text in parsed.pages):
        raise DocumentRejected(
            f"no text could be extracted from {path.name}",
            reason="empty_text",
            hint="a scanned PDF needs OCR before upload",
        )
    return parsed


def _precheck(path: Path, limits: ParseLimits) -> str:
    """Size, emptiness, type by magic bytes and a complete PDF, before any parser runs."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8192)
            handle.seek(max(0, size - 2048))
            tail = handle.read()
    except OSError as exc:
        raise DocumentRejected(f"cannot read {path}: {exc.strerror}", reason="unreadable") from exc
    if size > limits.max_bytes:
        raise DocumentRejected(
            f"{path.name} is {size / 1e6:.1f} MB; at most {limits.max_bytes / 1e6:.0f} MB accepted",
            reason="too_large",
            hint="raise SIGHTLINE_UPLOAD_MAX_MB if the document is genuine",
        )
    if size == 0:
        raise DocumentRejected(f"{path.name} is empty", reason="empty_text")
    kind = sniff_kind(path, head)
    if kind == "pdf" and b"%%EOF" not in tail:
        # A PDF ends with %%EOF; a missing marker means a cut-off upload (PDFium would
        # otherwise "recover" whatever pages it can and we would index half a filing).
        raise DocumentRejected(
            f"{path.name} is truncated (no %%EOF marker at the end)",
            reason="truncated",
            hint="upload the complete file",
        )
    return kind


def _run_worker(path: Path, kind: str, limits: ParseLimits) -> subprocess.CompletedProcess[bytes]:
    """The parse worker in an isolated child with CPU, memory and wall-clock limits."""
    command = [
        sys.executable,
        "-I",  # isolated: no PYTHON* variables, no user site, no current directory on sys.path
        "-m",
        "ingestion.documents.worker",
        str(path.resolve()),
        kind,
        str(limits.max_pages),
        limits.pdf_engine,
    ]
    cpu_s = max(1, int(limits.timeout_s))
    try:
        return subprocess.run(
            command,
            capture_output=True,
            timeout=limits.timeout_s,
            preexec_fn=lambda: _limit_child(limits.memory_mb, cpu_s),  # noqa: PLW1509
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DocumentRejected(
            f"parsing {path.name} took longer than {limits.timeout_s:.0f} s",
            reason="parse_timeout",
        ) from exc


def _decoded(body: dict) -> ParsedDocument:
    """The worker's JSON document as a ParsedDocument."""
    flags = TextFlags()
    for name, count in body["flags"].items():
        flags.add(name, int(count))
    return ParsedDocument(
        kind=body["kind"],
        pages=[(int(n), str(t)) for n, t in body["pages"]],
        title=body.get("title"),
        encoding=body.get("encoding"),
        flags=flags,
    )


def _reply(done: subprocess.CompletedProcess[bytes]) -> dict | None:
    if done.returncode != 0 or not done.stdout:
        return None
    try:
        reply = json.loads(done.stdout)
    except ValueError:
        return None
    return reply if isinstance(reply, dict) else None
