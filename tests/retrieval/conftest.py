"""Document-test fixtures: indexes over an embedded Chroma or a real `chroma run` server."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

DEMO_DOCS = Path(__file__).resolve().parents[2] / "ingestion" / "demo_data" / "documents"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def run_chroma_server(path: Path) -> Iterator[str]:
    """Run `chroma run` (from the installed chromadb) on a free loopback port; yield its setting."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma CLI of the installed chromadb is missing"
    port = _free_port()
    log = (path / "server.log").open("wb")
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((path / "server.log").read_text()) from None
                time.sleep(0.2)
        yield f"chroma+http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server for the whole session (stopped at the end)."""
    with run_chroma_server(tmp_path_factory.mktemp("chroma-server")) as setting:
        yield setting


@pytest.fixture(params=["embedded", "server"])
def vectors_setting(request: pytest.FixtureRequest) -> str:
    """The SIGHTLINE_VECTORS value for each backend (the same tests run against both)."""
    if request.param == "server":
        return str(request.getfixturevalue("chroma_server"))
    return "chroma"


@pytest.fixture
def make_index(tmp_path: Path, vectors_setting: str) -> Callable[..., object]:
    """Build a DocumentIndex in a fresh dir (and a fresh collection on the shared server)."""
    from retrieval.factory import open_document_index

    def make(**limits: int) -> object:
        home = tmp_path / f"home-{uuid.uuid4().hex[:8]}"
        return open_document_index(
            home, vectors=vectors_setting, device="cpu", collection=f"t{uuid.uuid4().hex}", **limits
        )

    return make


@pytest.fixture
def index(make_index: Callable[..., object]) -> object:
    """A fresh, empty DocumentIndex."""
    return make_index()


def write(path: Path, text: str) -> Path:
    """Write a UTF-8 text file and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
