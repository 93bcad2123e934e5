"""A real NATS JetStream server on a free loopback port for the real-time tests (issue 17)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

NATS_SERVER = shutil.which("nats-server") or (
    "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``nats://127.0.0.1:PORT`` of a JetStream server that lives for the test session."""
    if NATS_SERVER is None:
        pytest.skip(
            "issue 17: nats-server is not installed (make test installs it: apt nats-server)"
        )
    store = tmp_path_factory.mktemp("jetstream")
    port = free_port()
    proc = subprocess.Popen(
        [NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("nats-server did not start") from None
            time.sleep(0.1)
    yield f"nats://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def broker_url(nats_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The session's server with the event streams emptied (a clean slate per test)."""
    from tests.realtime.events import wipe

    wipe(nats_url)
    monkeypatch.setenv("SIGHTLINE_NATS_URL", nats_url)
    return nats_url
