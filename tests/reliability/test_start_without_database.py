"""A server started while PostgreSQL is down: 503 saying why, then serving once it is up,
without a restart."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.conftest import ServerProcess, api_session
from tests.reliability.test_outages import error_shape, wait_for_log

pytestmark = pytest.mark.server
ADMIN, ALICE = "admin@example.com", "alice@example.com"


def first_answer(url: str, timeout: float = 30) -> requests.Response:
    """The first answer of a server that is still opening its port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "the server never listened"
            time.sleep(0.05)


def test_starts_with_postgres_down_answers_503_then_serves(own_postgres, tmp_path):
    own_postgres.stop()
    server = ServerProcess(own_postgres.url, tmp_path / "instance", admins=ADMIN)
    # start() returns once /healthz answers 200: here, only after PostgreSQL is back.
    starting = threading.Thread(target=server.start, kwargs={"timeout": 120}, daemon=True)
    starting.start()
    try:
        health = first_answer(f"{server.url}/healthz")
        error = error_shape(health, 503)
        assert error["code"] == "starting" and "database" in error["message"], error
        wait_for_log(server, "start-up: waiting for the database", count=3)
        still = error_shape(requests.get(f"{server.url}/api/vms", timeout=5), 503)
        assert still["code"] == "starting"
        assert requests.get(f"{server.url}/api/vms", timeout=5).headers["Retry-After"]
        page = requests.get(f"{server.url}/", timeout=5)
        assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/plain")
        assert "starting" in page.text
        pid = server.proc.pid

        own_postgres.start()
        back = time.monotonic()
        starting.join(timeout=120)
        assert not starting.is_alive(), "the server did not become ready"
        ready = time.monotonic() - back
        assert server.proc.pid == pid and server.proc.poll() is None  # no restart
        admin, alice = api_session(server.url, ADMIN), api_session(server.url, ALICE)
        assert admin.post(f"{server.url}/api/vms", json={"id": "vm-1"}).status_code == 201
        booked = alice.post(f"{server.url}/api/vms/vm-1/book", json={"hours": 1})
        assert booked.status_code == 200, booked.text
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
        print(
            f"start without database: 503 'starting' while PostgreSQL was down, migrated and "
            f"serving {ready:.1f} s after it started, same process"
        )
    finally:
        server.stop()
        starting.join(timeout=5)
