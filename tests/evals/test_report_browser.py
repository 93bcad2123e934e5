"""The HTML report renders in a real headless Chromium: charts drawn, hostile text inert."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from evals.harness.gate import check_gate
from evals.harness.runner import run_eval
from evals.harness.store import save_run
from tests.evals.test_harness import TINY_GATE, WRONG  # registers the tiny suite

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def screenshot(page: Path, png: Path, profile: Path) -> None:
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1100,2400",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium missing: run `make browser`")
def test_report_renders_with_charts(runtime, tmp_path: Path) -> None:  # noqa: ANN001
    from PIL import Image

    run = run_eval(runtime, suites=["tiny"], options=WRONG)
    run.gate = check_gate(run, TINY_GATE)
    report = save_run(run, tmp_path / "run")
    png = tmp_path / "report.png"
    screenshot(report, png, tmp_path / "profile")
    image = Image.open(png).convert("RGB")
    assert image.size == (1100, 2400)
    colors = image.getcolors(maxcolors=1 << 20) or []
    counts = {rgb: n for n, rgb in colors}
    # Bars and lines are drawn in the palette's blue and red; the page is not blank.
    assert counts.get((37, 99, 235), 0) > 500
    assert counts.get((220, 38, 38), 0) > 100
    assert counts.get((255, 255, 255), 0) < 1100 * 2400 * 0.98
