"""Hook fixtures: one real shell script whose behaviour files in its folder steer, an app
with the hook worker running, and the realtime messages it publishes."""

from __future__ import annotations

import queue
import stat
import time
from pathlib import Path

import pytest

from loadzone.core import events
from loadzone.hooks import worker as hook_worker

SCRIPT = """#!/bin/sh
dir='{dir}'
echo "start $$ $LOADZONE_HOOK $LOADZONE_VM_ID|$LOADZONE_VM_ADDRESS|$LOADZONE_VM_LABELS|\
$LOADZONE_BOOKING_ID|$LOADZONE_OWNER|$LOADZONE_END_REASON|${{LOADZONE_DATABASE_URL:-unset}}" \
  >> "$dir/log"
if [ -e "$dir/flood" ]; then head -c 5000000 /dev/zero | tr '\\0' 'x'; echo; fi
while [ ! -e "$dir/gate" ]; do sleep 0.01; done
[ -e "$dir/say" ] && cat "$dir/say"
echo "done $$" >> "$dir/log"
exit "$(cat "$dir/code" 2>/dev/null || echo 0)"
"""


class HookScript:
    """A hook that logs its environment, waits at a gate, says something and exits."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.dir = folder
        self.path = folder / "hook.sh"
        self.path.write_text(SCRIPT.format(dir=folder))
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR)
        self.open_gate()

    def open_gate(self) -> None:
        (self.dir / "gate").touch()

    def close_gate(self) -> None:
        (self.dir / "gate").unlink(missing_ok=True)

    def fail_with(self, code: int, say: str = "") -> None:
        (self.dir / "code").write_text(str(code))
        (self.dir / "say").write_text(say)

    def flood(self) -> None:
        (self.dir / "flood").touch()

    def lines(self, word: str) -> list[str]:
        log = self.dir / "log"
        text = log.read_text() if log.exists() else ""
        return [line for line in text.splitlines() if line.startswith(word + " ")]

    def wait_started(self, count: int = 1, timeout: float = 20) -> list[str]:
        """Wait until the hook logged its start `count` times (the script is the only one
        that knows; it announces itself in its log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = self.lines("start")
            if len(started) >= count:
                return started
            time.sleep(0.02)
        raise AssertionError(f"hook started {len(self.lines('start'))} times, not {count}")


def alive(pid: int) -> bool:
    """The process runs (a zombie nobody reaped yet counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


class Heard:
    """Realtime messages the app published after its commits."""

    def __init__(self, app):
        self.messages: queue.Queue = queue.Queue()
        events.subscribe(app, self.messages.put)

    def wait(self, name: str, match=lambda data: True, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.messages.get(timeout=left)
            except queue.Empty:
                break
            if event.name == name and match(event.payload):
                return event.payload
        raise AssertionError(f"no {name} message matched")


@pytest.fixture
def hook(tmp_path) -> HookScript:
    return HookScript(tmp_path / "hook")


@pytest.fixture
def hook_timeout() -> float:
    return 20.0


@pytest.fixture
def hook_kinds() -> tuple[str, ...]:
    return ("release",)


@pytest.fixture
def hook_settings(hook, hook_timeout, hook_kinds) -> dict:
    """The script as the hook of `hook_kinds`; tests parametrize those two to change it."""
    commands = {f"hook_{kind}": (str(hook.path),) for kind in hook_kinds}
    return {**commands, "hook_timeout": hook_timeout}


@pytest.fixture
def app(app_factory, hook_settings, hook):
    """The app with hooks configured and the hook worker running (as in `loadzone run`)."""
    app = app_factory(admins=("admin@example.com",), **hook_settings)
    app.heard = Heard(app)
    worker = hook_worker.start(app)
    yield app
    hook.open_gate()
    worker.stop(wait=True)
