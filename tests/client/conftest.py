"""The real `lz`, installed from client/ into a virtual environment of its own, run against
real servers. That environment has `requests` and nothing of the server."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client.lzproc import Lz, clean_env
from tests.conftest import ROOT, api_session


@pytest.fixture(scope="session")
def lz_venv(tmp_path_factory) -> Path:
    """A virtual environment with `pip install client/` done in it, once per session."""
    root = tmp_path_factory.mktemp("lz")
    # A copy: building in place would leave build/ and *.egg-info in the working tree.
    source = shutil.copytree(
        ROOT / "client",
        root / "client",
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", str(source)],
        check=True,
        timeout=600,
        env=clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"),
    )
    return venv


@pytest.fixture
def lz(lz_venv, tmp_path):
    runner = Lz(lz_venv / "bin" / "lz", tmp_path)
    yield runner
    runner.stop()


@pytest.fixture
def server(server_factory):
    """A server whose sweep runs every second (idle releases are found by it)."""
    return server_factory(admins="admin@example.com", sweep_seconds=1)


@pytest.fixture
def people(server):
    """Signed-in sessions by name: admin, alice, bob, carol; closed before the server stops."""
    sessions = {
        name: api_session(server.url, f"{name}@example.com")
        for name in ("admin", "alice", "bob", "carol")
    }
    yield sessions
    for session in sessions.values():
        session.close()
