"""`lz run`: the command sees its VMs, heartbeats keep them, every ending releases them."""

from __future__ import annotations

import json
import signal
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.pool import NullPool

from loadzone.config import database_url
from loadzone.models import Booking
from tests.client.lzproc import until

pytestmark = pytest.mark.server

# The command lz runs: it writes what it sees to argv[1], then waits for argv[2] to appear
# and exits with argv[3].
COMMAND = r"""
import json, os, sys, time
seen = {k: os.environ.get(k) for k in ("LOADZONE_VMS", "LOADZONE_VM_ADDRESSES",
                                       "LOADZONE_BOOKING_IDS", "LOADZONE_URL")}
seen["pid"] = os.getpid()
with open(sys.argv[1] + ".part", "w") as out:
    json.dump(seen, out)
os.replace(sys.argv[1] + ".part", sys.argv[1])
deadline = time.monotonic() + 120
while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
    time.sleep(0.05)
sys.exit(int(sys.argv[3]))
"""


@pytest.fixture
def vms(server, people):
    """vm-1 and vm-2 in group 'perf' with addresses, and vm-3 without one."""
    admin = people["admin"]
    for n, address in ((1, "10.0.0.1:8080"), (2, "load-2.example.org"), (3, None)):
        body = {"id": f"vm-{n}", "address": address}
        assert admin.post(f"{server.url}/api/vms", json=body).status_code == 201
    group = {"name": "perf", "vm_ids": ["vm-1", "vm-2"]}
    assert admin.post(f"{server.url}/api/groups", json=group).status_code == 201


class Command:
    """The files through which the test and the command talk."""

    def __init__(self, folder, code: int = 0):
        self.seen_path, self.stop_path = folder / "seen.json", folder / "stop"
        self.argv = [sys.executable, "-c", COMMAND, str(self.seen_path), str(self.stop_path)]
        self.argv.append(str(code))

    def seen(self) -> dict:
        until(self.seen_path.exists, timeout=30, what="the command to start")
        return json.loads(self.seen_path.read_text())

    def stop(self) -> None:
        self.stop_path.touch()


def booking(server, session, booking_id: int) -> dict:
    return session.get(f"{server.url}/api/bookings/{booking_id}", timeout=10).json()


def alice(server, people) -> dict:
    return {"url": server.url, "token": people["alice"].token}


def test_run_gives_the_command_its_vms_keeps_them_alive_and_exits_with_its_code(
    lz, server, people, vms, tmp_path
):
    command = Command(tmp_path, code=7)
    args = ("run", "--group", "perf", "--count", "2", "--hours", "1", "--heartbeat", "30")
    running = lz.start(*args, "--", *command.argv, **alice(server, people))

    seen = command.seen()
    vm_ids = seen["LOADZONE_VMS"].split(" ")
    assert sorted(vm_ids) == ["vm-1", "vm-2"]
    addresses = {"vm-1": "10.0.0.1:8080", "vm-2": "load-2.example.org"}
    assert seen["LOADZONE_VM_ADDRESSES"].split(" ") == [addresses[v] for v in vm_ids]
    assert seen["LOADZONE_URL"] == server.url
    ids = [int(i) for i in seen["LOADZONE_BOOKING_IDS"].split(" ")]
    held = [booking(server, people["alice"], i) for i in ids]
    assert [b["vm_id"] for b in held] == vm_ids
    assert all(b["state"] == "active" and b["heartbeat_s"] == 30 for b in held)
    # A heartbeat every third of heartbeat_s: the first after 10 s.
    until(
        lambda: all(booking(server, people["alice"], i)["last_heartbeat"] for i in ids),
        timeout=20,
        every=0.5,
        what="heartbeats for both bookings",
    )

    command.stop()

    assert running.wait() == 7, running.stderr
    assert running.stdout == ""
    for booking_id in ids:
        ended = booking(server, people["alice"], booking_id)
        assert (ended["state"], ended["end_reason"]) == ("ended", "manual")


def test_run_without_an_address_passes_the_vm_id_and_default_heartbeat(
    lz, server, people, vms, tmp_path
):
    command = Command(tmp_path)
    args = ("run", "--vm", "vm-3", "--hours", "1", "--", *command.argv)
    running = lz.start(*args, **alice(server, people))
    seen = command.seen()
    assert (seen["LOADZONE_VMS"], seen["LOADZONE_VM_ADDRESSES"]) == ("vm-3", "vm-3")
    held = booking(server, people["alice"], int(seen["LOADZONE_BOOKING_IDS"]))
    assert held["heartbeat_s"] == 60
    command.stop()
    assert running.wait() == 0, running.stderr
    assert "vm-3 has no address" in running.stderr


def test_run_of_a_missing_command_exits_127_and_releases(lz, server, people, vms):
    args = ("run", "--vm", "vm-1", "--hours", "1", "--", "no-such-command-here")
    result = lz(*args, **alice(server, people))
    assert result.returncode == 127, result.stderr
    listed = people["alice"].get(f"{server.url}/api/bookings", params={"vm_id": "vm-1"})
    [ended] = listed.json()["items"]
    assert ended["end_reason"] == "manual"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_is_passed_on_and_releases_at_once(lz, server, people, vms, tmp_path, signum):
    command = Command(tmp_path)
    args = ("run", "--vm", "vm-1", "--hours", "1", "--", *command.argv)
    running = lz.start(*args, **alice(server, people))
    booking_id = int(command.seen()["LOADZONE_BOOKING_IDS"])

    sent = time.monotonic()
    running.process.send_signal(signum)  # to lz alone: it must pass the signal on

    ended = until(
        lambda: (b := booking(server, people["alice"], booking_id))["state"] == "ended" and b,
        timeout=5,
        what="the booking to end",
    )
    assert ended["end_reason"] == "manual"
    # The command died of the signal well before lz would have killed it (10 s).
    assert running.wait(timeout=8) == 128 + signum, running.stderr
    assert time.monotonic() - sent < 8


def test_a_killed_run_leaves_the_booking_to_the_idle_release(
    lz, server, people, vms, tmp_path, db_url
):
    command = Command(tmp_path)
    args = ("run", "--vm", "vm-1", "--hours", "1", "--heartbeat", "30", "--")
    running = lz.start(*args, *command.argv, **alice(server, people))
    booking_id = int(command.seen()["LOADZONE_BOOKING_IDS"])

    running.process.send_signal(signal.SIGKILL)  # lz only; its command keeps running
    running.wait(timeout=10)

    held = booking(server, people["alice"], booking_id)
    assert (held["state"], held["heartbeat_s"]) == ("active", 30)
    # Thirty silent seconds, shortened: the heartbeat is now due in one.
    _set_idle_at(db_url, booking_id, datetime.now(UTC) + timedelta(seconds=1))
    vm_free = until(
        lambda: people["bob"].get(f"{server.url}/api/vms/vm-1").json()["status"] == "free",
        timeout=15,
        every=0.2,
        what="the idle release",
    )
    assert vm_free
    ended = booking(server, people["alice"], booking_id)
    assert (ended["state"], ended["end_reason"]) == ("ended", "idle")


def _set_idle_at(db_url: str, booking_id: int, when: datetime) -> None:
    engine = create_engine(database_url(db_url, None), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(update(Booking).where(Booking.id == booking_id).values(idle_at=when))
    finally:
        engine.dispose()
