"""App test fixtures: AppTest over a demo copy, a real `streamlit run`, a real Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app" / "ui" / "streamlit_app.py"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = Path(os.environ.get("SIGHTLINE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PASSWORD = "sightline-demo"


@pytest.fixture
def app_home(demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo data dir, made the current SIGHTLINE_HOME."""
    home = tmp_path / "app-home"
    shutil.copytree(demo_home, home)
    monkeypatch.setenv("SIGHTLINE_HOME", str(home))
    # AppTest runs many short sessions in one process; the browser test keeps the warm-up on.
    monkeypatch.setenv("SIGHTLINE_UI_WARM_UP", "false")
    return home


@pytest.fixture
def app(app_home: Path):  # noqa: ANN201
    """An AppTest of the real entry script over the demo copy (not yet run)."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=120)


@pytest.fixture
def signed_in(app) -> Callable[[str], object]:  # noqa: ANN001
    """Sign the AppTest in as a demo user through the real form; returns the AppTest."""

    def sign_in(name: str, password: str = PASSWORD):  # noqa: ANN202
        app.run()
        app.text_input(key="sign_in_name").input(name)
        app.text_input(key="sign_in_password").input(password)
        app.button(key="FormSubmitter:sign_in-Sign in").click().run()
        return app

    return sign_in


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def streamlit_server(home: Path, log_path: Path, **env: str) -> Iterator[str]:
    """Run ``streamlit run`` on a free loopback port over ``home``; yield its URL."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SIGHTLINE_", "OPENAI_"))}
    environ.update(SIGHTLINE_HOME=str(home), **env)
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", "--global.developmentMode", "false",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            # Until the server says it is healthy or the process dies: no clock of our own (a
            # loaded machine only makes this slower; pytest-timeout is the backstop for a hang).
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"streamlit exited early:\n{log_path.read_text()}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    pass
                time.sleep(0.3)  # not ready yet: ask again
            yield url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def chromium(tmp_path: Path):  # noqa: ANN201
    """A real headless Chromium (Debian's) driven by playwright, with a fresh profile."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run `make browser` (Debian chromium + chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(f"{message}; `make test` installs it (issue 9's browser test needs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()
