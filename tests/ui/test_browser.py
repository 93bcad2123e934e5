"""End to end in a real headless Chromium against `streamlit run` over a copy of the demo data.

Analyst asks (cited answer; chart), researcher uploads a document, compliance finds, verifies and
reviews the analyst's answer, an analyst opening the trail is refused. Every request the browser
makes must stay on the loopback server (no remote image, font or script is ever fetched).
Screenshots go to test-output/screenshots/ for inspection.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.ui.conftest import PASSWORD, SCREENSHOTS, streamlit_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONG = 180_000  # ms: the first answer may wait for the embedding model on a busy 2-core machine


def sign_in(page, url: str, name: str, path: str = "") -> None:  # noqa: ANN001
    page.goto(url + path)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Access groups:").wait_for(timeout=60_000)


def go_to(page, title: str) -> None:  # noqa: ANN001
    # The radio label is "<icon> Title"; the icon renders as its ligature name.
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(re.compile(rf"{re.escape(title)}$")).click()
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=60_000)


def settle(page) -> None:  # noqa: ANN001
    """Wait until the script run has finished (stale elements of the last page are gone)."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=60_000
    )
    # Elements of the previous run stay on screen marked stale until the new run replaces them.
    page.locator('[data-stale="true"]').first.wait_for(state="detached", timeout=60_000)


def shot(page, name: str) -> None:  # noqa: ANN001
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    settle(page)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def ask(page, question: str) -> None:  # noqa: ANN001
    box = page.get_by_placeholder("Ask a question")
    box.fill(question)
    box.press("Enter")


def test_roles_end_to_end_in_chromium(chromium, demo_home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    note = tmp_path / "e2e_desk_note.md"
    note.write_text(
        "# Desk note on semiconductor capex\n\nFoundry capex guidance rose for 2024, the desk "
        "notes, with lead times for lithography tools still above twelve months.\n",
        encoding="utf-8",
    )
    requests: list[str] = []
    chromium.on("request", lambda request: requests.append(request.url))
    with streamlit_server(home, tmp_path / "streamlit.log") as url:
        # Analyst: a cited answer from the filings, then a history with a chart.
        page = chromium.new_page()
        sign_in(page, url, "analyst")
        shot(page, "01-analyst-ask")
        ask(page, "What do the filings say about cloud services?")
        page.get_by_text("Answered and recorded").wait_for(timeout=LONG)
        page.get_by_text(re.compile(r"^\[1\] ")).first.wait_for(timeout=10_000)
        page.get_by_text(re.compile(r"^\[1\] ")).first.click()  # open the cited passage
        shot(page, "02-analyst-cited-answer")
        ask(page, "Show the history of JPM 20-day realized volatility in 2020")
        page.get_by_text("Answered and recorded").nth(1).wait_for(timeout=LONG)
        chart = page.locator('[data-testid="stVegaLiteChart"]').first
        chart.wait_for(timeout=LONG)  # drawn after the status line, on a loaded machine later
        assert chart.locator("canvas, svg").count() >= 1
        assert page.get_by_text("realized volatility").count() >= 1
        shot(page, "03-analyst-chart")
        page.close()

        # Researcher: upload a document tagged public.
        page = chromium.new_page()
        sign_in(page, url, "researcher")
        go_to(page, "Documents")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(note))
        page.get_by_text("e2e_desk_note.md").wait_for(timeout=30_000)
        page.get_by_role("button", name="Upload and index").click()
        page.get_by_text(re.compile(r"Indexed e2e_desk_note")).wait_for(timeout=LONG)
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
        shot(page, "04-researcher-upload")
        page.close()

        # Compliance: find the analyst's answer, verify the chain, review it.
        page = chromium.new_page()
        sign_in(page, url, "compliance")
        go_to(page, "Answer trail")
        search = page.get_by_label("Question or answer contains")
        search.fill("JPM 20-day")
        search.press("Enter")
        page.get_by_text(re.compile(r"^[1-9]\d* record\(s\), newest first")).wait_for(
            timeout=30_000
        )
        page.get_by_text("Record #").first.wait_for(timeout=30_000)
        assert page.get_by_text("Show the history of JPM 20-day realized volatility").count() >= 1
        page.get_by_role("button", name="Verify the chain").click()
        page.get_by_text(re.compile(r"Chain intact: \d+ records checked")).wait_for(timeout=60_000)
        # Fill the form only once the verify run has finished: input typed into a form while
        # its page is being re-run can be replaced by the new run (seen on a loaded machine).
        settle(page)
        page.get_by_label("Note").fill("Figures match the feature store; approved.")
        page.get_by_role("button", name="Record review").click()
        page.get_by_text(re.compile(r"Review recorded as record #\d+ \(approved\)")).wait_for(
            timeout=LONG
        )
        shot(page, "05-compliance-review")
        # The other pages, for the record: the model registry (read-only here) and the data.
        go_to(page, "Models")
        page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=60_000)
        assert page.get_by_role("button", name="Approve for use").count() == 0
        shot(page, "07-compliance-models")
        go_to(page, "Data")
        page.get_by_role("heading", name="Feature catalogue").wait_for(timeout=60_000)
        shot(page, "08-data")
        page.close()

        # Analyst: a crafted URL to the trail is refused by the page itself.
        page = chromium.new_page()
        sign_in(page, url, "analyst", "/?page=trail")
        page.get_by_text("Access refused").wait_for(timeout=60_000)
        assert page.get_by_text("Record #").count() == 0
        shot(page, "06-analyst-refused-trail")
        page.close()
    # What the browser did is in the data: the upload is indexed, the review points at the answer.
    from app.runtime import Runtime
    from app.settings import Settings
    from app.trail import TrailQuery

    rt = Runtime(Settings(home=home))
    uploaded = [d for d in rt.documents.documents() if d["doc_name"] == "e2e_desk_note"]
    assert [(d["uploaded_by"], d["access_groups"]) for d in uploaded] == [
        ("researcher", ["public"])
    ]
    answers = [
        r
        for r in rt.trail.read(TrailQuery(user="analyst", kind="answer"))
        if r.record["question"].startswith("Show the history of JPM")
    ]
    reviews = rt.trail.read(TrailQuery(kind="review", refers_to=answers[-1].id))
    assert [(r.record["user"], r.record["status"], r.record["note"]) for r in reviews] == [
        ("compliance", "approved", "Figures match the feature store; approved.")
    ]
    assert rt.trail.verify().ok
    remote = {u for u in requests if urlsplit(u).hostname not in ("127.0.0.1", None, "")}
    assert not {u for u in remote if not u.startswith(("data:", "blob:"))}, sorted(remote)[:5]
