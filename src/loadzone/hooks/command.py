"""Run one hook command: no shell, its own process group, a deadline, a bounded output tail."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TAIL_BYTES = 4096
CHUNK = 65536


@dataclass(frozen=True)
class Result:
    """How a hook ended: `failure` is None on exit 0, else what went wrong, in words."""

    exit_code: int | None
    output: str
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


class Tail:
    """The last TAIL_BYTES of a pipe, read as it comes: megabytes of output cost nothing."""

    def __init__(self, limit: int = TAIL_BYTES):
        self.limit = limit
        self.data = bytearray()

    def drain(self, fd: int) -> None:
        while chunk := os.read(fd, CHUNK):
            self.data += chunk
            if len(self.data) > self.limit:
                del self.data[: -self.limit]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def last_line(self, width: int = 200) -> str:
        lines = [line.strip() for line in self.text().splitlines() if line.strip()]
        return lines[-1][:width] if lines else ""


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _wait(proc, timeout: float, tick: float, on_tick: Callable[[], bool]) -> str | None:
    """Wait for the process; None when it exited, else why it was stopped."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return f"timed out after {timeout:g} s"
        try:
            proc.wait(min(left, tick))
            return None
        except subprocess.TimeoutExpired:
            if not on_tick():
                return "was taken over by another instance"


def _failure(code: int, tail: Tail) -> str | None:
    if code == 0:
        return None
    if code < 0:
        return f"was killed by signal {-code}"
    line = tail.last_line()
    return f"exited with {code}: {line}" if line else f"exited with {code}"


def run(
    argv: tuple[str, ...],
    env: dict[str, str],
    timeout: float,
    *,
    on_start: Callable[[int], None] = lambda pid: None,
    on_tick: Callable[[], bool] = lambda: True,
    tick: float = 10.0,
) -> Result:
    """Run `argv` to its end or its deadline; the whole process group dies on timeout."""
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own group: a timeout kills what it started too
        )
    except OSError as exc:
        return Result(None, "", f"could not start: {exc.strerror or exc}")
    tail = Tail()
    reader = threading.Thread(target=tail.drain, args=(proc.stdout.fileno(),), daemon=True)
    reader.start()
    try:
        on_start(proc.pid)
        stopped = _wait(proc, timeout, tick, on_tick)
    finally:
        # Also after a clean exit: a straggler it left behind must not hold the pipe open.
        _kill_group(proc.pid)
        proc.wait()
        reader.join(5)
        if not reader.is_alive():  # a daemon that escaped the group may hold it: leave it
            proc.stdout.close()
    return Result(proc.returncode, tail.text(), stopped or _failure(proc.returncode, tail))
