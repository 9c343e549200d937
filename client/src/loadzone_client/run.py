"""`lz run`: book, run a command with the VMs in its environment, keep them alive, release."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import replace

from loadzone_client.api import Api
from loadzone_client.booking import Ask, book, release, say
from loadzone_client.errors import Interrupted, Refused, Unavailable

DEFAULT_HEARTBEAT = 60
# How long an interrupted command may take to stop before it is killed.
GRACE_SECONDS = 10


class Heartbeats(threading.Thread):
    """Tells the server every `every` seconds that the bookings are still in use."""

    def __init__(self, api: Api, booking_ids: list[int], every: float):
        super().__init__(name="lz-heartbeats", daemon=True)
        self.api = api
        self.booking_ids = list(booking_ids)
        self.every = every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            for booking_id in list(self.booking_ids):
                self._beat(booking_id)

    def _beat(self, booking_id: int) -> None:
        try:
            self.api.call("POST", f"/api/bookings/{booking_id}/heartbeat", {})
        except Refused as error:
            self.booking_ids.remove(booking_id)
            if not self.stopped.is_set():  # else released by us a moment ago
                say(f"booking {booking_id} is no longer held: {error.message}")
        except Unavailable as error:
            say(f"heartbeat for booking {booking_id} failed: {error.message}")

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=1)


class Signals:
    """SIGINT and SIGTERM: forwarded to the command, and raised once as Interrupted."""

    def __init__(self):
        self.child: subprocess.Popen | None = None
        self.raised = False

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame) -> None:
        if self.child is not None:
            self.child.send_signal(signum)  # a no-op once the child has been reaped
        if not self.raised:
            self.raised = True
            raise Interrupted(signum)


def environment(api: Api, bookings: list[dict]) -> dict[str, str]:
    """The command's environment: ours plus the VMs, their addresses and the booking ids."""
    vm_ids = [booking["vm_id"] for booking in bookings]
    addresses = []
    for vm_id in vm_ids:
        address = api.get(f"/api/vms/{vm_id}").get("address")
        if not address:
            say(f"{vm_id} has no address; LOADZONE_VM_ADDRESSES gives its id instead")
        addresses.append(address or vm_id)
    return {
        **os.environ,
        "LOADZONE_VMS": " ".join(vm_ids),
        "LOADZONE_VM_ADDRESSES": " ".join(addresses),
        "LOADZONE_BOOKING_IDS": " ".join(str(booking["id"]) for booking in bookings),
    }


def exit_code(returncode: int, signum: int | None = None) -> int:
    """The shell's convention: 128+N for death by signal N; an interrupted run never 0."""
    if returncode < 0:
        return 128 - returncode
    if signum is not None and returncode == 0:
        return 128 + signum
    return returncode


def run(
    api: Api,
    beat_api: Api,
    ask: Ask,
    command: list[str],
    signals: Signals,
    poll: float,
    show: Callable[[dict], None],
) -> int:
    """Book, run `command`, release everything however it ends; the command's exit code."""
    if ask.heartbeat is None:
        ask = replace(ask, heartbeat=DEFAULT_HEARTBEAT)
    answer = book(api, ask, poll)
    booking_ids = [booking["id"] for booking in answer["bookings"]]
    beats = Heartbeats(beat_api, booking_ids, ask.heartbeat / 3)

    def finish() -> None:
        _finish(api, beats, booking_ids, signals)

    try:
        show(answer)
        env = environment(api, answer["bookings"])
        beats.start()
        return _supervise(command, env, signals, finish)
    finally:
        finish()


def _finish(api: Api, beats: Heartbeats, booking_ids: list[int], signals: Signals) -> None:
    """Stop the heartbeats and release, once; a signal from now on no longer interrupts."""
    signals.raised = True
    if beats.is_alive():
        beats.stop()
    if booking_ids:
        release(api, booking_ids)
        booking_ids.clear()


def _supervise(command: list[str], env: dict, signals: Signals, finish) -> int:
    try:
        signals.child = subprocess.Popen(command, env=env)
    except FileNotFoundError:
        say(f"command not found: {command[0]}")
        return 127
    except PermissionError:
        say(f"command not executable: {command[0]}")
        return 126
    child = signals.child
    try:
        return exit_code(child.wait())
    except Interrupted as interrupt:
        # The handler already passed the signal on; release now, the command may take a while.
        say(f"{signal.Signals(interrupt.signum).name}: releasing, then waiting for the command")
        finish()
        try:
            returncode = child.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            say(f"the command did not stop within {GRACE_SECONDS} s; killing it")
            child.kill()
            returncode = child.wait()
        return exit_code(returncode, interrupt.signum)
