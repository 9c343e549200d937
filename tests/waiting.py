"""Waiting for a process a test started to answer HTTP."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import requests


def until_answers(proc: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    """Return once `url` answers 200; raise with the log's tail if `proc` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited early:\n{log.read_text()[-3000:]}")
        if _answers(url):
            return
        time.sleep(0.05)
    raise RuntimeError(f"did not answer {url} within {timeout} s:\n{log.read_text()[-3000:]}")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except (requests.ConnectionError, requests.Timeout):
        return False  # refused or still starting up
