"""Outages of what LoadZone stands on: PostgreSQL stopped, Redis killed, an SQLite disk that
fills up or turns read-only. Each breaks a service of the test's own, never a shared one."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.conftest import ServerProcess, api_session
from tests.reliability.invariants import HOLDERS
from tests.sockets import Watcher

pytestmark = pytest.mark.server
ADMIN, ALICE = "admin@example.com", "alice@example.com"


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def error_shape(response: requests.Response, status: int | tuple[int, ...]) -> dict:
    """Assert the documented JSON error with one of `status`; return its error object."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]


def wait_for_log(server: ServerProcess, text: str, count: int = 1, timeout: float = 20) -> None:
    """The server says what it retries only in its log: poll it with a deadline."""
    deadline = time.monotonic() + timeout
    while server.log.read_text(errors="replace").count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} not logged {count}x"
        time.sleep(0.1)


class Prober:
    """Keeps sending reads and writes during an outage and tallies the answers."""

    def __init__(self, base_url: str, session: requests.Session, vm_id: str):
        self.base_url, self.session, self.vm_id = base_url, session, vm_id
        self.statuses: Counter = Counter()
        self.bad: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        calls = [
            ("GET", "/api/vms", None),
            ("POST", f"/api/vms/{self.vm_id}/book", {"hours": 1}),
            ("POST", f"/api/vms/{self.vm_id}/release", None),
            ("GET", "/api/history", None),
            ("GET", "/healthz", None),
        ]
        index = 0
        while not self.stopping.is_set():
            method, path, body = calls[index % len(calls)]
            index += 1
            response = self.session.request(method, self.base_url + path, json=body, timeout=30)
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                try:
                    error_shape(response, 503)
                except AssertionError as exc:
                    self.bad.append(f"{method} {path}: {exc}")

    def __enter__(self) -> Prober:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)


def test_postgres_outage_gives_503_and_recovers_without_restart(own_postgres, tmp_path):
    server = ServerProcess(own_postgres.url, tmp_path / "instance", admins=ADMIN, sweep_seconds=1)
    try:
        url = server.start().url
        alice, admin = api_session(url, ALICE), api_session(url, ADMIN)
        for vm_id in ("vm-kept", "vm-due", "vm-free", "vm-probe"):
            assert admin.post(f"{url}/api/vms", json={"id": vm_id}).status_code == 201
        for vm_id in ("vm-kept", "vm-due"):
            assert alice.post(f"{url}/api/vms/{vm_id}/book", json={"hours": 2}).status_code == 200
        watcher = Watcher(url, alice.token).connect()
        started = time.monotonic()
        with Prober(url, alice, "vm-probe") as prober:
            due = soon(1.5)
            assert admin.patch(f"{url}/api/vms/vm-due", json={"expires_at": due}).status_code == 200
            own_postgres.stop()
            down = {
                "list": alice.get(f"{url}/api/vms"),
                "one": alice.get(f"{url}/api/vms/vm-kept"),
                "book": alice.post(f"{url}/api/vms/vm-free/book", json={"hours": 1}),
                "renew": alice.post(f"{url}/api/vms/vm-kept/renew", json={"hours": 1}),
                "me": alice.get(f"{url}/api/me"),
            }
            for what, response in down.items():
                error = error_shape(response, 503)
                assert error["code"] == "database_unavailable", (what, error)
                assert response.headers.get("Retry-After"), what
            health = requests.get(f"{url}/healthz", timeout=10)
            assert health.status_code == 503 and health.json()["error"]["code"]
            # vm-due expires while the database is away: its exact job fails, the sweep retries.
            wait_for_log(server, "sweep could not read the database", count=2)
            outage = time.monotonic() - started
            own_postgres.start()
            freed = watcher.wait_for(
                "vm_updated", lambda d: d["id"] == "vm-due" and not d["booked_by"], timeout=20
            )
            recovered = time.monotonic() - started - outage
        assert freed["expires_at"] is None
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
        vms = {vm["id"]: vm for vm in alice.get(f"{url}/api/vms").json()}
        assert vms["vm-kept"]["booked_by"] == ALICE
        assert alice.post(f"{url}/api/vms/vm-free/book", json={"hours": 1}).status_code == 200
        history = alice.get(f"{url}/api/history", params={"vm_id": "vm-due"}).json()["items"]
        assert [h["reason"] for h in history if h["action"] == "release"] == ["expired"]
        assert not prober.bad, prober.bad[:5]
        assert 500 not in prober.statuses and prober.statuses[503] > 0, prober.statuses
        watcher.close()
        print(
            f"outage[postgresql]: {sum(prober.statuses.values()) + len(down) + 1} requests, "
            f"{prober.statuses[503] + len(down) + 1} answered 503 JSON, 0 500s, "
            f"down {outage:.1f} s, overdue release done {recovered:.1f} s after the database "
            f"returned, no restart; statuses {dict(prober.statuses)}"
        )
    finally:
        server.stop()


def numsub(client, channel: str) -> int:
    return dict(client.pubsub_numsub(channel)).get(channel.encode(), 0)


def test_redis_outage_bookings_work_and_events_resume(own_redis, server_factory, backend):
    first = server_factory(admins=ADMIN, redis_url=own_redis.url, rate_limit="on")
    second = server_factory(admins=ADMIN, redis_url=own_redis.url, rate_limit="on")
    channel = first.env["LOADZONE_REDIS_CHANNEL"]
    alice, admin = api_session(first.url, ALICE), api_session(first.url, ADMIN)
    for vm_id in ("vm-1", "vm-2", "vm-3"):
        assert admin.post(f"{first.url}/api/vms", json={"id": vm_id}).status_code == 201
    watcher = Watcher(second.url, alice.token).connect()
    try:
        assert alice.post(f"{first.url}/api/vms/vm-1/book", json={"hours": 1}).status_code == 200
        watcher.wait_for("vm_updated", lambda d: d["id"] == "vm-1" and d["booked_by"] == ALICE)

        # Only an instance with socket clients listens (python-socketio starts its listener
        # on the first connection): here the second one.
        listeners = numsub(own_redis.client(), channel)
        assert listeners >= 1
        own_redis.kill()
        started = time.monotonic()
        booked = alice.post(f"{first.url}/api/vms/vm-2/book", json={"hours": 1})
        assert booked.status_code == 200, booked.text
        seen = alice.get(f"{second.url}/api/vms/vm-2").json()
        assert seen["booked_by"] == ALICE  # the database is shared, only events are missed

        own_redis.start()
        # The listener resubscribes on its own (python-socketio retries with back-off).
        deadline = time.monotonic() + 30
        while numsub(own_redis.client(), channel) < listeners:
            assert time.monotonic() < deadline, "instances did not resubscribe to Redis"
            time.sleep(0.1)
        resumed = time.monotonic() - started
        assert alice.post(f"{first.url}/api/vms/vm-3/book", json={"hours": 1}).status_code == 200
        watcher.wait_for("vm_updated", lambda d: d["id"] == "vm-3" and d["booked_by"] == ALICE)
        print(
            f"outage[redis, {backend}]: booking during the outage 200, events resumed "
            f"{resumed:.1f} s after Redis was killed and restarted, no LoadZone restart"
        )
    finally:
        watcher.close()


@pytest.fixture
def disk_server(small_disk, sqlite_template, tmp_path):
    """A server whose SQLite file lives on the small disk."""
    target = small_disk.mount_point / "loadzone.db"
    shutil.copy(sqlite_template, target)
    os.sync()  # a copy is not durable until synced; only the server's own commits are
    servers: list[ServerProcess] = []

    def start() -> ServerProcess:
        server = ServerProcess(f"sqlite:///{target}", tmp_path / "instance", admins=ADMIN)
        servers.append(server)
        return server.start()

    yield start, target
    for server in servers:
        server.stop()


def integrity(path) -> tuple[str, dict]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        owners = dict(conn.execute(HOLDERS).fetchall())
    finally:
        conn.close()
    return check, owners


def serve_one_booking(disk_server):
    """A server on the small disk with vm-1 booked by Alice and vm-2 free."""
    start, path = disk_server
    server = start()
    url = server.url
    alice, admin = api_session(url, ALICE), api_session(url, ADMIN)
    for vm_id in ("vm-1", "vm-2"):
        assert admin.post(f"{url}/api/vms", json={"id": vm_id}).status_code == 201
    assert alice.post(f"{url}/api/vms/vm-1/book", json={"hours": 2}).status_code == 200
    return server, url, alice, path


def test_sqlite_full_disk_is_a_clear_error_and_heals(disk_server, small_disk):
    server, url, alice, path = serve_one_booking(disk_server)

    small_disk.fill()
    refused = Counter()
    for _ in range(20):
        response = alice.post(f"{url}/api/vms/vm-2/book", json={"hours": 1})
        error = error_shape(response, (503, 507))
        refused[(response.status_code, error["code"])] += 1
    assert set(refused) == {(507, "storage_full")}, refused
    assert alice.get(f"{url}/api/vms").status_code == 200  # reads go on
    health = requests.get(f"{url}/healthz", timeout=10)
    assert health.status_code == 503, health.text

    small_disk.free()
    assert alice.post(f"{url}/api/vms/vm-2/book", json={"hours": 1}).status_code == 200
    assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
    server.stop()
    check, owners = integrity(path)
    assert check == "ok" and owners == {"vm-1": ALICE, "vm-2": ALICE}
    print(
        f"outage[sqlite-full]: {sum(refused.values())} writes on a full disk answered "
        f"507 JSON, healed without restart, integrity_check ok, nothing lost"
    )


def test_sqlite_read_only_disk_is_a_clear_error_without_corruption(disk_server, small_disk):
    server, url, alice, path = serve_one_booking(disk_server)

    small_disk.fail()
    refused = Counter()
    for _ in range(20):
        response = alice.post(f"{url}/api/vms/vm-2/book", json={"hours": 1})
        error = error_shape(response, 503)
        refused[error["code"]] += 1
    assert set(refused) == {"storage_unwritable"}, refused
    vms = {vm["id"]: vm for vm in alice.get(f"{url}/api/vms").json()}  # reads go on
    assert vms["vm-1"]["booked_by"] == ALICE
    health = requests.get(f"{url}/healthz", timeout=10)
    assert health.status_code == 503, health.text

    # What an operator does: stop, check the file system, mount it again, start.
    server.stop()
    small_disk.repair()
    check, owners = integrity(path)
    assert check == "ok" and owners == {"vm-1": ALICE, "vm-2": None}
    url = disk_server[0]().url
    assert alice.post(f"{url}/api/vms/vm-2/book", json={"hours": 1}).status_code == 200
    print(
        f"outage[sqlite-read-only]: {sum(refused.values())} writes on a read-only disk "
        "answered 503 JSON, reads served, integrity_check ok after repair, nothing lost"
    )
