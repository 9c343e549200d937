"""A client that misses events while Redis is down can tell from `seq`/`prev`."""

from __future__ import annotations

import time

import pytest

from tests.conftest import api_session
from tests.reliability.test_outages import numsub
from tests.sockets import Watcher, unexplained

pytestmark = pytest.mark.server
ADMIN, ALICE = "admin@example.com", "alice@example.com"


def test_events_missed_during_a_redis_outage_show_as_a_gap(own_redis, server_factory):
    first = server_factory(admins=ADMIN, redis_url=own_redis.url)
    second = server_factory(admins=ADMIN, redis_url=own_redis.url)
    channel = first.env["LOADZONE_REDIS_CHANNEL"]
    alice, admin = api_session(first.url, ALICE), api_session(first.url, ADMIN)
    for vm_id in ("vm-1", "vm-2", "vm-3"):
        assert admin.post(f"{first.url}/api/vms", json={"id": vm_id}).status_code == 201
    floor = int(alice.get(f"{second.url}/api/vms").headers["X-LoadZone-Seq"])
    watcher = Watcher(second.url, alice.token).connect()
    try:
        assert alice.post(f"{first.url}/api/vms/vm-1/book", json={"hours": 1}).status_code == 200
        watcher.wait_for("notification", lambda d: d["type"] == "vm_booked")
        assert unexplained(watcher.drain(), floor) == []

        own_redis.kill()
        assert alice.post(f"{first.url}/api/vms/vm-2/book", json={"hours": 1}).status_code == 200
        own_redis.start()
        # The listener resubscribes on its own; then the next event names vm-2's, never received.
        deadline = time.monotonic() + 30
        while numsub(own_redis.client(), channel) < 1:
            assert time.monotonic() < deadline, "the instance did not resubscribe to Redis"
            time.sleep(0.1)
        booked = alice.post(f"{first.url}/api/vms/vm-3/book", json={"hours": 1})
        assert booked.status_code == 200
        watcher.wait_for("vm_updated", lambda d: d["id"] == "vm-3", timeout=30)
        received = watcher.drain()
        missing = unexplained(received, floor)
        assert missing, [(n, d["seq"], d["prev"]) for n, d in received]
        assert all(seq not in {d["seq"] for _, d in received} for seq in missing)
        print(f"missed events: the client saw a gap before seq {missing} after the Redis outage")
    finally:
        watcher.close()
