"""Shared fixtures: an isolated data dir per test, a clean environment, and no network.

`demo_home` builds the full demo data once per test session (it is slow); tests that change data
get their own copy through `demo_runtime`.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.offline import apply_offline_guards

apply_offline_guards()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Owner-only files, as every entry point sets (app.home): a test's data dir is 0700 too."""
    from app.home import use_private_umask

    use_private_umask()


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else None
    if isinstance(host, str):
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise OSError(f"tests may not reach the network (tried {host})")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test: its own SIGHTLINE_HOME, no inherited SIGHTLINE_/OPENAI_ settings, no network."""
    for name in list(os.environ):
        if name.startswith(("SIGHTLINE_", "OPENAI_")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("SIGHTLINE_HOME", str(home))
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    yield home


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the whole demo loaded, built once per session. Treat it as read-only."""
    from app.demo import run_demo
    from app.runtime import Runtime
    from app.settings import Settings

    home = tmp_path_factory.mktemp("demo") / "home"
    # Embeddings are keyed by sha256(model version + text), so a cache kept between test sessions
    # is always valid; it saves re-embedding the demo documents (minutes on 2 cores) every run.
    cache = Path(os.environ.get("SIGHTLINE_TEST_CACHE", Path.home() / ".cache" / "sightline-tests"))
    kept = cache / "demo-embeddings.sqlite"
    target = home / "documents" / "embeddings.sqlite"
    if kept.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, target)
    run_demo(Runtime(Settings(home=home)), lambda _msg: None)
    if target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        partial = kept.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(target, partial)
        os.replace(partial, kept)
    return home


@pytest.fixture
def demo_runtime(demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """A Runtime over a private copy of the demo data dir (safe to change)."""
    from app.runtime import Runtime
    from app.settings import Settings

    home = tmp_path / "demo-copy"
    shutil.copytree(demo_home, home)
    monkeypatch.setenv("SIGHTLINE_HOME", str(home))
    return Runtime(Settings(home=home))


@pytest.fixture
def runtime(_isolated: Path):  # noqa: ANN201
    """A Runtime over an empty data dir."""
    from app.runtime import Runtime
    from app.settings import Settings

    return Runtime(Settings(home=_isolated))
