"""Throwaway services a test may break at will: its own PostgreSQL cluster, its own Redis,
and a small disk that can fill up or turn read-only. Never the machine's shared ones."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import redis

from tests.conftest import free_port


def _wait(check, what: str, timeout: float = 30) -> None:
    """Poll `check` until it holds: these processes announce readiness nowhere else."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {timeout}s")


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server binaries, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path else None


class OwnPostgres:
    """A PostgreSQL cluster of this test only, on a free port, stopped and started at will."""

    def __init__(self, folder: Path, bindir: Path):
        self.folder = folder
        self.data = folder / "data"
        self.bindir = bindir
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/loadzone"
        self.proc: subprocess.Popen | None = None
        # The server refuses to run as root: run it as the postgres user then.
        self.user = {"user": "postgres", "group": "postgres", "extra_groups": []}
        if os.geteuid() != 0:
            self.user = {}

    def _run(self, *args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, **self.user)

    def create(self) -> OwnPostgres:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.start()
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE loadzone")
        return self

    def _dsn(self, db: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={db} connect_timeout=2"

    def start(self) -> None:
        log = open(self.folder / "postgres.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [
                str(self.bindir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.folder),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **self.user,
        )
        log.close()
        _wait(lambda: psycopg.connect(self._dsn("postgres")).close() is None, "postgres")

    def stop(self) -> None:
        """Fast shutdown: sessions are terminated, open transactions roll back."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=30)

    def destroy(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


class OwnRedis:
    """A Redis of this test only, on a free port, killed and restarted on the same port."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> OwnRedis:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait(self.client().ping, "redis")
        return self

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class SmallDisk:
    """A 16 MB ext4 file system on a loop device, mounted with errors=remount-ro: it can be
    filled up, or made to fail the way a disk with errors does (read-only at once)."""

    def __init__(self, folder: Path):
        self.image = folder / "disk.img"
        self.mount_point = folder / "disk"
        self.filler = self.mount_point / "filler"

    def available(self) -> str | None:
        """Why this machine cannot make such a disk, or None when it can."""
        if os.geteuid() != 0:
            return "mounting a file system needs root"
        for tool in ("mkfs.ext4", "mount", "umount", "e2fsck"):
            if not shutil.which(tool):
                return f"{tool} is not installed"
        if not Path("/dev/loop-control").exists():
            return "no loop devices on this machine"
        return None

    def mount(self) -> SmallDisk:
        self.mount_point.mkdir(parents=True, exist_ok=True)
        if not self.image.exists():
            with open(self.image, "wb") as handle:
                handle.truncate(16 * 1024 * 1024)
            subprocess.run(["mkfs.ext4", "-q", "-F", str(self.image)], check=True)
        subprocess.run(
            ["mount", "-o", "loop,errors=remount-ro", str(self.image), str(self.mount_point)],
            check=True,
            capture_output=True,
        )
        return self

    def fill(self) -> None:
        """Write until the kernel says ENOSPC."""
        chunk = b"\0" * (256 * 1024)
        with open(self.filler, "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(chunk)
            except OSError:
                pass
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * 4096)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def fail(self) -> None:
        """An ext4 error: the kernel remounts the file system read-only, files stay open."""
        device = subprocess.run(
            ["findmnt", "-n", "-o", "SOURCE", str(self.mount_point)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        Path(f"/sys/fs/ext4/{Path(device).name}/trigger_fs_error").write_text("1\n")

    def repair(self) -> None:
        """What an operator does: unmount, check the file system, mount again."""
        self.unmount()
        subprocess.run(["e2fsck", "-fy", str(self.image)], capture_output=True)
        self.mount()

    def unmount(self) -> None:
        if not os.path.ismount(self.mount_point):
            return
        done = subprocess.run(["umount", str(self.mount_point)], capture_output=True)
        if done.returncode != 0:  # still busy (a test failed early): detach it anyway
            subprocess.run(["umount", "-l", str(self.mount_point)], check=True)
