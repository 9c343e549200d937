"""Who runs a hook: this process, named by host, process id and process start time.

A claim records that name. On the same host a starting instance can tell at once that the
claimer is gone (no such process, or a different one under a reused id) and take its runs
back without waiting for the lease; across hosts only the lease can tell.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from functools import cache

RUN_ID_VARIABLE = "LOADZONE_HOOK_RUN_ID"


def _started(pid: int) -> str:
    """The process's start time in clock ticks since boot ('-' if there is none)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return "-"
    # The command name may contain spaces and parentheses: count fields after the last ')'.
    return stat.rsplit(b")", 1)[1].split()[19].decode()


@cache
def identity() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}/{pid}/{_started(pid)}"


def gone(claimer: str | None) -> bool:
    """True when `claimer` ran on this host and that process no longer exists."""
    try:
        host, pid, started = (claimer or "").rsplit("/", 2)
        pid_number = int(pid)
    except ValueError:
        return False
    if host != socket.gethostname() or started == "-":
        return False
    return _started(pid_number) != started


def kill_orphan(pid: int | None, run_id: int) -> bool:
    """Kill the process group a dead instance left running for this run, if it is still
    there: its environment must name the run, so a reused process id is never hit."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            environ = handle.read().split(b"\0")
    except OSError:
        return False
    if f"{RUN_ID_VARIABLE}={run_id}".encode() not in environ:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    return True
