"""LOADZONE_WORKERS=2: two serving processes, one running the scheduler; facts, events and
the leadership cross between them (Redis), and a killed leader is replaced."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import REDIS_URL
from tests.reliability.harness import sign_in
from tests.sockets import Watcher

ADMIN = "admin@example.com"
LEADS = re.compile(r"worker (\d+) runs the scheduler")


def workers(server) -> list[int]:
    path = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children")
    return [int(pid) for pid in path.read_text().split()]


def _inodes(pid: int) -> set[str]:
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def worker_of(server, client_port: int) -> int | None:
    """The worker holding the server side of the connection from `client_port`."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if int(local, 16) == server.port and int(remote, 16) == client_port:
            inode = fields[9]
    return next((pid for pid in workers(server) if inode in _inodes(pid)), None)


def leaders(server) -> list[int]:
    return [int(pid) for pid in LEADS.findall(server.log.read_text())]


def wait_until(condition, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"condition not met in {timeout} s")


class Pinned:
    """A keep-alive connection, and the worker that serves it."""

    def __init__(self, server, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.token = token
        self.conn.connect()
        self.worker = wait_until(lambda: worker_of(server, self.conn.sock.getsockname()[1]))

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        payload = None if body is None else json.dumps(body)
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")


def pinned_to(server, token: str, worker: int) -> Pinned:
    # Others stay open until one reaches `worker`: the workers share connections out evenly,
    # so closing one would send the next to the same worker again.
    others = []
    try:
        for _ in range(20):
            candidate = Pinned(server, token)
            if candidate.worker == worker:
                return candidate
            others.append(candidate)
    finally:
        for other in others:
            other.conn.close()
    raise AssertionError(f"no connection reached worker {worker}")


def expire_soon(admin: Pinned, owner: Pinned, vm_id: str, seconds: float) -> datetime:
    assert owner.call("POST", f"/api/vms/{vm_id}/book", {"hours": 1})[0] == 200
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    status, _ = admin.call("PATCH", f"/api/vms/{vm_id}", {"expires_at": at.isoformat()})
    assert status == 200
    return at


def test_two_workers_share_events_and_one_runs_the_scheduler(server_factory):
    # The safety sweep is far away: only exact jobs, planned by the leading worker from
    # facts of either worker, can release these bookings on time.
    server = server_factory(admins=ADMIN, redis_url=REDIS_URL, workers=2, sweep_seconds=600)
    wait_until(lambda: server.log.read_text().count("ready after") >= 2 and leaders(server))
    leader = leaders(server)[0]
    other = next(pid for pid in workers(server) if pid != leader)
    admin_token, alice_token = sign_in(server.url, ADMIN), sign_in(server.url, "a@example.com")
    admin = pinned_to(server, admin_token, other)  # its expiry changes are facts to forward
    for vm_id in ("vm-1", "vm-2"):
        assert admin.call("POST", "/api/vms", {"id": vm_id})[0] == 201

    # Sockets on both workers hear a change made on either.
    watchers = []
    for _ in range(40):
        watchers.append(Watcher(server.url, alice_token).connect())
        held = {worker_of(server, w.client.eio.ws.sock.getsockname()[1]) for w in watchers}
        if held >= {leader, other}:
            break
    assert held >= {leader, other}
    try:
        on_other = pinned_to(server, alice_token, other)
        on_leader = pinned_to(server, alice_token, leader)
        ends = {
            "vm-1": expire_soon(admin, on_other, "vm-1", 3),
            "vm-2": expire_soon(admin, on_leader, "vm-2", 3),
        }
        for vm_id, end in ends.items():
            for watcher in watchers:
                watcher.wait_for("vm_updated", lambda d, v=vm_id: d["id"] == v and d["booked_by"])
                released = watcher.wait_for(
                    "vm_updated", lambda d, v=vm_id: d["id"] == v and not d["booked_by"], 15
                )
                assert released["id"] == vm_id
            assert datetime.now(UTC) - end < timedelta(seconds=10)
        assert leaders(server) == [leader]
        assert server.log.read_text().count("scheduler started with") == 1
    finally:
        for watcher in watchers:
            watcher.close()


def test_a_killed_leader_is_replaced_and_its_work_goes_on(server_factory):
    server = server_factory(admins=ADMIN, redis_url=REDIS_URL, workers=2, sweep_seconds=600)
    wait_until(lambda: server.log.read_text().count("ready after") >= 2 and leaders(server))
    first = leaders(server)[0]
    admin_token, alice_token = sign_in(server.url, ADMIN), sign_in(server.url, "a@example.com")
    survivor = next(pid for pid in workers(server) if pid != first)
    admin = pinned_to(server, admin_token, survivor)
    assert admin.call("POST", "/api/vms", {"id": "vm-1"})[0] == 201
    os.kill(first, signal.SIGKILL)
    assert wait_until(lambda: leaders(server)[1:]) == [survivor]
    # gunicorn replaces the dead worker; the newcomer follows, it does not lead.
    wait_until(lambda: len(workers(server)) == 2 and first not in workers(server))
    newcomer = next(pid for pid in workers(server) if pid != survivor)
    # It starts as the others did, and takes no connection until it has (web/balance.py).
    wait_until(lambda: server.log.read_text().count("ready after") >= 3)
    owner = pinned_to(server, alice_token, newcomer)
    assert owner.call("GET", "/healthz")[0] == 200
    end = expire_soon(pinned_to(server, admin_token, newcomer), owner, "vm-1", 2)
    status, vm = wait_until(lambda: _released(admin, "vm-1"), 15)
    assert status == 200 and vm["booked_by"] is None
    assert datetime.now(UTC) - end < timedelta(seconds=10)
    assert leaders(server) == [first, survivor]


def _released(client: Pinned, vm_id: str):
    status, vm = client.call("GET", f"/api/vms/{vm_id}")
    return (status, vm) if vm.get("booked_by") is None else None


def test_keep_alive_connections_are_shared_out_evenly(server_factory):
    server = server_factory(redis_url=REDIS_URL, workers=2)
    wait_until(lambda: server.log.read_text().count("ready after") >= 2)
    token = sign_in(server.url, "a@example.com")
    held = [Pinned(server, token) for _ in range(16)]
    try:
        for pinned in held:
            assert pinned.call("GET", "/api/vms")[0] == 200
        per_worker = {pid: sum(p.worker == pid for p in held) for pid in workers(server)}
        assert sorted(per_worker.values()) == [8, 8], per_worker
    finally:
        for pinned in held:
            pinned.conn.close()


def test_several_workers_without_redis_are_refused(tmp_path):
    env = {
        **os.environ,
        "LOADZONE_WORKERS": "2",
        "LOADZONE_INSTANCE_PATH": str(tmp_path),
        "LOADZONE_PORT": "0",
    }
    env.pop("LOADZONE_REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "loadzone", "run"], env=env, capture_output=True, timeout=60
    )
    assert done.returncode != 0
    assert b"LOADZONE_REDIS_URL" in done.stderr
