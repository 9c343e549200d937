"""The naive baseline (../shared/baseline/app.py) in a virtual environment of its own.

It is the peer of the side-by-side figures (bench/versus.py): Flask-SocketIO threading on
Werkzeug, all state in one data.json rewritten on every change. The bench creates its
environment once (.venv-baseline, from the baseline's requirements.txt) and starts it on a
data.json holding the same VMs as LoadZone's database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from . import seed
from .server import free_port

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(os.environ.get("LOADZONE_BASELINE", ROOT.parent / "shared" / "baseline"))
VENV = ROOT / ".venv-baseline"


def missing() -> str | None:
    """Why the baseline cannot run here, or None."""
    if not (SOURCE / "app.py").exists():
        return f"no baseline at {SOURCE} (set LOADZONE_BASELINE to its folder)"
    return None


def python() -> Path:
    """The baseline's interpreter, creating its environment on first use."""
    binary = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    requirements = SOURCE / "requirements.txt"
    if stamp.exists() and stamp.read_text() == requirements.read_text():
        return binary
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(binary), "-m", "pip", "install", "--quiet", "-r", str(requirements)], check=True
    )
    stamp.write_text(requirements.read_text())
    return binary


def data_file(folder: Path, count: int, booked: int, prefix: str) -> Path:
    """A data.json with the same VMs (and bookings) LoadZone's seed inserts."""
    vms, bookings = seed.pool_rows(count, booked=booked, prefix=prefix)
    owners = {b[0]: b for b in bookings}
    out = []
    for vm_id, _group, description, maintenance, _created in vms:
        booking = owners.get(vm_id)
        out.append(
            {
                "id": vm_id,
                "group": None,
                "description": description,
                "maintenance": maintenance,
                "booked_by": booking[1] if booking else None,
                "expires_at": booking[3].isoformat() + "+00:00" if booking else None,
            }
        )
    path = folder / "data.json"
    path.write_text(json.dumps({"vms": out, "groups": [], "users": {}}))
    return path


class Baseline:
    """The baseline server on a free loopback port, in its own process group."""

    def __init__(self, folder: Path, vms: int, booked: int = 0, prefix: str = "vm-"):
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "baseline.log"
        self.env = {
            **os.environ,
            "LOADZONE_DATA_FILE": str(data_file(folder, vms, booked, prefix)),
            "LOADZONE_ADMINS": seed.ADMIN,
            "LOADZONE_SECRET_KEY": "bench-secret-key",
        }
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Baseline:
        command = [str(python()), str(SOURCE / "app.py"), "--host", "127.0.0.1"]
        with open(self.log, "ab") as handle:
            self.proc = subprocess.Popen(
                [*command, "--port", str(self.port)],
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"baseline exited:\n{self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("baseline did not start")

    def worker_pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, 15)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=10)

    def __enter__(self) -> Baseline:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
