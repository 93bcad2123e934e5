"""HTML -> PDF with the headless Chromium the project already installs (no PDF library needed).

Chromium lays the page out exactly as the browser shows the HTML (inline SVG included) and honours
``@page`` margin boxes, which carry the run id onto every printed page. It runs with a throwaway
profile, no network services and no sandbox (containers often lack the namespaces it needs).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ingestion.errors import ConfigError, StoreError

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
)


def print_pdf(html: Path, out: Path, *, chromium: str, timeout_s: float = 120.0) -> int:
    """Print ``html`` to ``out``; return the page count.

    Raises:
        ConfigError: Chromium is not installed where the setting says.
        StoreError: Chromium failed or produced no PDF.
    """
    binary = shutil.which(chromium)
    if binary is None:
        raise ConfigError(
            f"headless Chromium not found at '{chromium}'",
            hint="install Debian's chromium (`make browser`) or set SIGHTLINE_REPORT_CHROMIUM",
        )
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="sightline-chromium-") as profile:
        cmd = [binary, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={out}",
               html.resolve().as_uri()]  # fmt: skip
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise StoreError(
                f"Chromium did not print {html.name} within {timeout_s:.0f} s"
            ) from None
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise StoreError(
            f"Chromium could not print {html.name} to PDF (exit {proc.returncode}): "
            + " | ".join(tail),
            hint="run the same command by hand to see Chromium's full output",
        )
    from pypdf import PdfReader

    return len(PdfReader(out).pages)
