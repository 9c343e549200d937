"""Who runs a hook: this process, named by host, process id and process start time.

A claim records that name. On the same host a starting instance can tell at once that the
claimer is gone (no such process, or a different one under a reused id) and take its runs
back without waiting for the lease; across hosts only the lease can tell.
"""

from __future__ import annotations

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


def kill_orphans(run_id: int) -> int:
    """Kill the process groups a dead instance of this host left running for this run.

    They are found by the run id in their environment, not by a recorded process id: the
    instance may have died between starting the hook and recording its id, and an id may
    have been reused since.
    """
    marker = f"{RUN_ID_VARIABLE}={run_id}".encode()
    killed = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if marker not in handle.read().split(b"\0") or os.getpgid(pid) != pid:
                    continue
            os.killpg(pid, signal.SIGKILL)
            killed += 1
        except (OSError, ProcessLookupError):
            continue  # gone meanwhile, or not ours to read
    return killed
