"""Socket.IO events: who gets what, only after commit, and who may connect."""

from __future__ import annotations

import pytest
import requests
import socketio

from tests.conftest import api_session
from tests.sockets import sentinel

pytestmark = pytest.mark.server


@pytest.fixture
def live(server_factory):
    server = server_factory(admins="admin@example.com")
    url = server.url
    return (
        url,
        api_session(url, "alice@example.com"),
        api_session(url, "bob@example.com"),
        api_session(url, "admin@example.com"),
    )


def test_booking_reaches_everyone(live, watcher_factory):
    url, alice, bob, admin = live
    admin.post(f"{url}/api/vms", json={"id": "vm-1"})
    watch_a = watcher_factory(url, alice.token)
    watch_b = watcher_factory(url, bob.token)

    assert alice.post(f"{url}/api/vms/vm-1/book", json={"hours": 3}).status_code == 200

    for watcher in (watch_a, watch_b):
        vm = watcher.wait_for("vm_updated", lambda d: d["id"] == "vm-1" and d["booked_by"])
        assert vm["booked_by"] == "alice@example.com"
        assert vm["expires_at"]
        note = watcher.wait_for("notification", lambda d: d["type"] == "vm_booked")
        assert note["vm_id"] == "vm-1"
        assert note["actor"] == "alice@example.com"
        assert set(note) >= {"id", "type", "message", "vm_id", "group_id", "actor", "created_at"}


def test_rejected_change_emits_nothing(live, watcher_factory):
    url, alice, bob, admin = live
    admin.post(f"{url}/api/vms", json={"id": "vm-1"})
    alice.post(f"{url}/api/vms/vm-1/book", json={"hours": 1})
    watch = watcher_factory(url, bob.token)

    assert bob.post(f"{url}/api/vms/vm-1/book", json={"hours": 1}).status_code == 409
    assert bob.post(f"{url}/api/vms/vm-1/release", json={}).status_code == 403
    sentinel(admin, url, watch)

    received = sorted((name, data.get("type") or data.get("id")) for name, data in watch.drain())
    assert received == [("notification", "vm_added"), ("vm_updated", "sentinel")]


def test_group_events(live, watcher_factory):
    url, alice, _bob, admin = live
    watch = watcher_factory(url, alice.token)
    group = admin.post(f"{url}/api/groups", json={"name": "Load"}).json()
    assert watch.wait_for("group_updated", lambda d: d["id"] == group["id"])["name"] == "Load"
    assert watch.wait_for("notification", lambda d: d["type"] == "group_created")
    admin.delete(f"{url}/api/groups/{group['id']}")
    deleted = watch.wait_for("group_deleted")
    assert deleted["id"] == group["id"] and set(deleted) == {"id", "seq", "prev"}
    admin.post(f"{url}/api/vms", json={"id": "gone"})
    admin.delete(f"{url}/api/vms/gone")
    deleted = watch.wait_for("vm_deleted")
    assert deleted["id"] == "gone" and set(deleted) == {"id", "seq", "prev"}


def test_refuses_connections_without_credentials(live):
    url, alice, _bob, _admin = live
    for auth in (None, {"token": "lz_forged"}, {"token": 12}):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(url, auth=auth, transports=["websocket"], wait_timeout=5)
        assert not client.connected


def test_refuses_foreign_origin(live):
    url, alice, _bob, _admin = live
    handshake = f"{url}/socket.io/?EIO=4&transport=polling"
    own = requests.get(handshake, headers={"Origin": url, **alice.headers}, timeout=5)
    assert own.status_code == 200
    foreign = requests.get(
        handshake, headers={"Origin": "http://evil.example", **alice.headers}, timeout=5
    )
    assert foreign.status_code == 400


def test_session_cookie_connects(live, watcher_factory):
    url, *_ = live
    browser = requests.Session()
    browser.post(f"{url}/api/auth/login", json={"email": "carol@example.com"})
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    watch = watcher_factory(url, headers={"Cookie": cookie})
    assert watch.client.connected
