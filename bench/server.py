"""Start and stop real `loadzone run` servers, and talk to them as a client would."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

PLANNED = re.compile(r"scheduler started with (\d+) bookings planned")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`loadzone run` (gunicorn, one gthread worker) on a given database, in its own group."""

    def __init__(self, db_url: str, instance: Path, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.instance = instance
        self.env = {
            **os.environ,
            "LOADZONE_ENV_FILE": os.devnull,
            "LOADZONE_DATABASE_URL": db_url,
            "LOADZONE_INSTANCE_PATH": str(instance),
            "LOADZONE_HOST": "127.0.0.1",
            "LOADZONE_PORT": str(self.port),
            "LOADZONE_AUTH_MODE": "open",
            "LOADZONE_RATE_LIMIT": "off",
            "LOADZONE_THREADS": "200",
            "LOADZONE_SECRET_KEY": "bench-secret-key",
            # Private channel: a Redis-backed run elsewhere must not hear these events.
            "LOADZONE_REDIS_CHANNEL": f"loadzone-bench-{os.getpid()}",
            **{f"LOADZONE_{k.upper()}": str(v) for k, v in env.items()},
        }
        self.log = instance / f"server-{self.port}.log"
        self.command = [sys.executable, "-m", "loadzone", "run"]
        self.proc: subprocess.Popen | None = None
        self.startup_seconds: float | None = None

    def start(self, timeout: float = 60) -> Server:
        """Spawn the server and wait for /healthz to answer 200; records the time it took."""
        self.instance.mkdir(parents=True, exist_ok=True)
        handle = open(self.log, "ab")  # noqa: SIM115 - lives as long as the process
        began = time.monotonic()
        self.proc = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_text()[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    self.startup_seconds = time.monotonic() - began
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def planned_bookings(self, timeout: float = 10) -> int | None:
        """N from the worker's 'scheduler started with N bookings planned' log line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = PLANNED.search(self.log_text())
            if found:
                return int(found.group(1))
            time.sleep(0.05)
        return None

    def worker_pid(self) -> int:
        """The gunicorn worker: the only child of the `loadzone run` (arbiter) process."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        children = [int(pid) for pid in path.read_text().split()]
        if not children:
            raise RuntimeError("the server has no worker process")
        return children[0]

    def worker_rss_mb(self) -> float:
        """Resident memory of the worker process in MiB, from /proc/<pid>/status."""
        status = Path(f"/proc/{self.worker_pid()}/status").read_text()
        kilobytes = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
        return kilobytes / 1024

    def worker_cpu_seconds(self) -> float:
        """User + system CPU time the worker has used, from /proc/<pid>/stat."""
        fields = Path(f"/proc/{self.worker_pid()}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def api_session(base_url: str, email: str) -> requests.Session:
    """A keep-alive session for `email` carrying a personal bearer token (open sign-in)."""
    session = requests.Session()
    response = session.post(base_url + "/api/auth/login", json={"email": email}, timeout=10)
    response.raise_for_status()
    token = session.post(base_url + "/api/me/tokens", json={"name": "bench"}, timeout=10)
    token.raise_for_status()
    session.cookies.clear()
    session.token = token.json()["token"]
    session.headers["Authorization"] = "Bearer " + session.token
    return session
