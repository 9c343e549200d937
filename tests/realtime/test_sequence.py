"""`seq` on every Socket.IO event: increasing across the installation and restarts, with
`prev` explaining the gaps other people's personal events leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.conftest import api_session
from tests.sockets import sentinel, unexplained

pytestmark = pytest.mark.server
ADMIN, ALICE, BOB = "admin@example.com", "alice@example.com", "bob@example.com"


def seqs(events) -> list[int]:
    return [data["seq"] for _, data in events]


def test_seq_increases_across_a_restart_and_gaps_are_explained(server_factory, watcher_factory):
    server = server_factory(admins=ADMIN)
    url = server.url
    alice, bob, admin = (api_session(url, who) for who in (ALICE, BOB, ADMIN))
    listed = requests.get(f"{url}/api/vms", headers=bob.headers, timeout=10)
    floor = int(listed.headers["X-LoadZone-Seq"])
    watch_a, watch_b = watcher_factory(url, alice.token), watcher_factory(url, bob.token)
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()
    admin.post(f"{url}/api/vms", json={"id": "vm-1"})
    reserved = alice.post(f"{url}/api/bookings", json={"vm_id": "vm-1", "hours": 1, "start": start})
    assert reserved.status_code == 201, reserved.text
    # Deleting the VM cancels Alice's reservation: a notification for her alone.
    assert admin.delete(f"{url}/api/vms/vm-1", params={"force": "true"}).status_code == 200
    sentinel(admin, url, watch_a, watch_b)
    before_a, before_b = list(watch_a.drain()), list(watch_b.drain())
    mine = [d for n, d in before_a if n == "notification" and d["type"] == "reservation_cancelled"]
    assert len(mine) == 1
    assert mine[0]["seq"] not in seqs(before_b)  # Bob's gap...
    assert unexplained(before_b, floor) == [] and unexplained(before_a, floor) == []  # ...explained
    for received in (before_a, before_b):
        assert seqs(received) == sorted(set(seqs(received))), seqs(received)
        assert min(seqs(received)) > floor

    watch_a.close()
    watch_b.close()
    server.stop()
    server.start()
    again = watcher_factory(url, bob.token)
    admin.post(f"{url}/api/vms", json={"id": "vm-2"})
    bob.post(f"{url}/api/vms/vm-2/book", json={"hours": 1})
    sentinel(admin, url, again, vm_id="sentinel-2")
    after = list(again.drain())
    assert seqs(after) == sorted(set(seqs(after)))
    last_before = max(seqs(before_a) + seqs(before_b))
    assert min(seqs(after)) == last_before + 1, (last_before, seqs(after))
    # The first event after the restart names the last public one before it.
    assert after[0][1]["prev"] == max(seqs(before_b))


def test_snapshot_header_covers_committed_events(server_factory, watcher_factory):
    server = server_factory(admins=ADMIN)
    admin = api_session(server.url, ADMIN)
    watch = watcher_factory(server.url, admin.token)
    sentinel(admin, server.url, watch)
    last = max(seqs(watch.drain()))
    listed = admin.get(f"{server.url}/api/vms")
    assert int(listed.headers["X-LoadZone-Seq"]) == last
