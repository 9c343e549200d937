"""Running the installed `lz` as a pipeline would, and waiting with a deadline."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

TIMEOUT = 60
# Fast retries and polling, so that failure paths take a second, not ten.
QUICK = {"LOADZONE_RETRIES": "2", "LOADZONE_RETRY_DELAY": "0.1", "LOADZONE_POLL_SECONDS": "0.2"}


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without PYTHONPATH or any LOADZONE_ setting, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTHONPATH" and not key.startswith("LOADZONE_")
    }
    env.update(extra)
    return env


class Background:
    """An `lz` started in its own process group, its output going to files."""

    def __init__(self, args: list[str], env: dict[str, str], folder: Path, name: str):
        self.out_path, self.err_path = folder / f"{name}.out", folder / f"{name}.err"
        self._files = [open(self.out_path, "w"), open(self.err_path, "w")]  # noqa: SIM115
        self.process = subprocess.Popen(
            args, env=env, stdout=self._files[0], stderr=self._files[1], start_new_session=True
        )
        self.pid = self.process.pid

    @property
    def stdout(self) -> str:
        return self.out_path.read_text()

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    def wait(self, timeout: float = TIMEOUT) -> int:
        return self.process.wait(timeout=timeout)

    def kill_all(self) -> None:
        """SIGKILL the process group: `lz` and whatever command it left running."""
        with contextlib.suppress(ProcessLookupError):  # the whole group has ended already
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=TIMEOUT)
        for handle in self._files:
            handle.close()


class Lz:
    """Runs `lz` with its settings in the environment, the way a CI job does."""

    def __init__(self, command: Path, folder: Path):
        self.command = command
        self.folder = folder
        self.started: list[Background] = []

    def env(self, url: str | None, token: str | None, **extra: str) -> dict[str, str]:
        settings = {**QUICK, **extra}
        if url:
            settings["LOADZONE_URL"] = url
        if token:
            settings["LOADZONE_TOKEN"] = token
        return clean_env(**settings)

    def __call__(self, *args: str, url=None, token=None, timeout=TIMEOUT, **extra):
        """Run to the end: a CompletedProcess with text stdout and stderr."""
        return subprocess.run(
            [str(self.command), *args],
            env=self.env(url, token, **extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str, url=None, token=None, **extra) -> Background:
        """Start in the background; stop() cleans up whatever is left of it."""
        name = f"lz-{len(self.started)}"
        env = self.env(url, token, **extra)
        process = Background([str(self.command), *args], env, self.folder, name)
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in self.started:
            process.kill_all()


def until(predicate, timeout: float = 15, every: float = 0.05, what: str = "a condition"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
