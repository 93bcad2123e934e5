"""The morning report on the demo: HTML + PDF, checked page by page as images, numbers = tools."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from PIL import Image, ImageStat

from app.batch.run import run_batch
from app.runtime import Runtime
from tests.batch.conftest import sightline
from tools.risk import risk_metrics

D13, D16 = date(2020, 3, 13), date(2020, 3, 16)


def _pages(pdf: Path, out: Path) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: `make browser` installs poppler-utils")
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(out / "page")], check=True)
    return sorted(out.glob("page-*.png"))


def test_morning_report_is_readable_and_tied_to_its_run(book: Runtime, tmp_path: Path) -> None:
    prev = run_batch(book, D13, user="admin", say=lambda _m: None)
    run = run_batch(book, D16, user="admin", say=lambda _m: None)
    result = sightline(
        "report", "morning", "--as-of", "2020-03-16", "--out", str(tmp_path / "r"),
        "--user", "admin", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)
    html, pdf = Path(files["html"]), Path(files["pdf"])
    assert html.suffix == ".html" and pdf.suffix == ".pdf" and files["run_id"] == run.run_id
    assert {p.suffix for p in (tmp_path / "r").iterdir()} == {".html", ".pdf"}

    # Page by page: as many pages as the PDF says, none blank, each with ink on it.
    pages = _pages(pdf, tmp_path)
    assert len(pages) == files["pages"] and 3 <= len(pages) <= 8
    for page in pages:
        image = Image.open(page).convert("L")
        assert image.size[0] < image.size[1]  # portrait A4
        dark = sum(image.histogram()[:128]) / (image.size[0] * image.size[1])
        assert 0.005 < dark < 0.5, f"{page.name} looks blank or solid ({dark:.3%} dark pixels)"
        assert ImageStat.Stat(image).stddev[0] > 10

    # Every number names its run; the headline figures equal the risk tool asked directly.
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    numbers = soup.select("span.num")
    assert len(numbers) > 100
    assert {n["data-run"] for n in numbers} == {run.run_id, prev.run_id}
    with book.warehouse.reader() as con:
        asked = risk_metrics(
            con, book.registry,
            {"portfolio": "DEMO", "as_of": D16, "confidence": 0.99, "lookback_days": 1000},
        )  # fmt: skip
    shown = {n["data-key"]: float(n["data-value"]) for n in numbers if n["data-run"] == run.run_id}
    assert shown["DEMO.var_historical_usd.0.99"] == asked["values"]["var_historical_usd"]
    assert shown["DEMO.es_historical_usd.0.99"] == asked["values"]["es_historical_usd"]
    assert shown["DEMO.market_value_usd.0.99"] == asked["values"]["market_value_usd"]
    text = soup.get_text(" ")
    for heading in (
        "Risk summary",
        "Limit usage",
        "Top contributors",
        "Basel traffic light",
        "probability of default",
        "Reconciliation exceptions",
        "Data quality",
    ):
        assert heading in text  # fmt: skip
    assert "RED" in text  # March 2020: the DEMO book's 99% VaR was exceeded 11 times in 250 days
    assert "stale_price" in text and "IBM" in text
    # Self-contained: no script, no external resource.
    assert not soup.find_all("script")
    assert not [t for t in soup.find_all(src=True) if "://" in t["src"]]
    assert len(soup.find_all("svg")) >= 4

    # The trail holds an event with both files' sha256, tied to the run.
    events = [r for r in book.trail.read() if r.record["kind"] == "event"]
    report = [e for e in events if e.record["details"].get("action") == "morning_report"]
    assert len(report) == 1
    details = report[0].record["details"]
    assert details["run_id"] == run.run_id
    assert details["pdf_sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert details["html_sha256"] == hashlib.sha256(html.read_bytes()).hexdigest()


def test_report_without_a_run_is_a_clear_error(book: Runtime, tmp_path: Path) -> None:
    result = sightline("report", "morning", "--as-of", "2020-03-16", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "no published batch run for 2020-03-16" in result.output
    assert "Traceback" not in result.output
