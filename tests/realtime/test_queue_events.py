"""The queue over real sockets: joining, the hand-over on release, and who hears what."""

from __future__ import annotations

import pytest

from tests.conftest import api_session

pytestmark = pytest.mark.server


def test_a_release_hands_the_vm_to_the_waiting_request_live(server_factory, watcher_factory):
    server = server_factory(admins="admin@example.com")
    url = server.url
    admin = api_session(url, "admin@example.com")
    alice = api_session(url, "alice@example.com")
    bob = api_session(url, "bob@example.com")
    assert admin.post(f"{url}/api/vms", json={"id": "vm-q"}).status_code == 201
    assert alice.post(f"{url}/api/vms/vm-q/book", json={"hours": 2}).status_code == 200
    watch_bob = watcher_factory(url, bob.token)
    watch_alice = watcher_factory(url, alice.token)

    joined = bob.post(f"{url}/api/bookings", json={"vm_id": "vm-q", "hours": 1, "wait": True})
    assert joined.status_code == 202
    request = joined.json()["request"]
    for watcher in (watch_alice, watch_bob):
        seen = watcher.wait_for("queue_updated", lambda d: d["id"] == request["id"])
        assert (seen["state"], seen["position"]) == ("waiting", 1)

    assert alice.post(f"{url}/api/vms/vm-q/release", json={}).status_code == 200

    vm = watch_bob.wait_for("vm_updated", lambda d: d["id"] == "vm-q" and d["booked_by"])
    assert vm["booked_by"] == "bob@example.com"
    granted = watch_bob.wait_for(
        "queue_updated", lambda d: d["id"] == request["id"] and d["state"] == "granted"
    )
    assert len(granted["booking_ids"]) == 1 and granted["position"] is None
    note = watch_bob.wait_for("notification", lambda d: d["type"] == "queue_granted")
    assert note["vm_id"] == "vm-q"
    booking = watch_bob.wait_for("booking_updated", lambda d: d["owner"] == "bob@example.com")
    assert booking["request_id"] == request["id"]
    # The grant is Bob's own news: Alice sees the VM change, not Bob's notification.
    watch_alice.wait_for("vm_updated", lambda d: d["id"] == "vm-q" and d["booked_by"])
    assert not [
        d for n, d in watch_alice.drain() if n == "notification" and d["type"] == "queue_granted"
    ]
