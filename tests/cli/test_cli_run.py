"""`loadzone run --host/--port`, and the original installation steps on a fresh copy."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from loadzone.config import load_settings
from loadzone.web import cli
from tests import waiting
from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.server


def wait_healthy(proc: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    waiting.until_answers(proc, url + "/healthz", log, timeout)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def spawn(args: list[str], env: dict, log: Path, cwd: Path | None = None) -> subprocess.Popen:
    with open(log, "ab") as handle:
        return subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def test_flags_override_the_environment(db_url, tmp_path):
    flag_port, env_port = free_port(), free_port()
    env = {
        **os.environ,
        "LOADZONE_DATABASE_URL": db_url,
        "LOADZONE_INSTANCE_PATH": str(tmp_path / "instance"),
        "LOADZONE_HOST": "0.0.0.0",
        "LOADZONE_PORT": str(env_port),
    }
    log = tmp_path / "run.log"
    command = [sys.executable, "-m", "loadzone", "run", "--host", "127.0.0.1"]
    proc = spawn([*command, "--port", str(flag_port)], env, log)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{flag_port}", log, 30)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{env_port}/healthz", timeout=2)
    finally:
        stop(proc)


@pytest.mark.parametrize("port", ["http", "-1", "70000"])
def test_a_bad_port_is_a_usage_error(port):
    result = CliRunner().invoke(cli.main, ["run", "--port", port])
    assert result.exit_code == 2 and "--port" in result.output


def test_default_address_is_localhost_5000(monkeypatch, tmp_path):
    for name in ("LOADZONE_HOST", "LOADZONE_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(tmp_path)
    assert (settings.host, settings.port) == ("127.0.0.1", 5000)


def fresh_copy(target: Path) -> None:
    """The files a clone would have: everything git tracks, as it is in the work tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def test_original_installation_steps(tmp_path):
    clone = tmp_path / "loadzone"
    fresh_copy(clone)
    port = free_port()
    python_dir = str(Path(sys._base_executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOADZONE_", "VIRTUAL_ENV"))}
    env.update(PATH=python_dir + os.pathsep + env["PATH"], LOADZONE_PORT=str(port))
    env["LOADZONE_ENV_FILE"] = os.devnull
    env.pop("PYTHONPATH", None)
    steps = (
        "python -m venv venv && source venv/bin/activate && "
        "pip install -q -r requirements.txt && exec python app.py"
    )
    log = tmp_path / "install.log"
    proc = spawn(["bash", "-c", steps], env, log, cwd=clone)
    try:
        wait_healthy(proc, f"http://localhost:{port}", log, 540)
        page = requests.get(f"http://localhost:{port}/login", timeout=10)
        assert page.status_code == 200 and "LoadZone" in page.text
        # The app served from the copy, with the copy's own virtualenv.
        assert (clone / "instance" / "loadzone.db").exists()
        assert list((clone / "venv").glob("lib/python*/site-packages/*loadzone*"))
    finally:
        stop(proc)
