"""Auto-release and expiry warnings on a real server: exact, once, and across restarts."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.conftest import REDIS_URL, api_session
from tests.sockets import sentinel

pytestmark = pytest.mark.server
ADMIN = "admin@example.com"


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def book_and_expire(url, owner, admin, vm_id: str, seconds: float) -> str:
    """Book `vm_id` for `owner`, then have the admin move its expiry `seconds` ahead."""
    admin.post(f"{url}/api/vms", json={"id": vm_id})
    assert owner.post(f"{url}/api/vms/{vm_id}/book", json={"hours": 2}).status_code == 200
    expires_at = soon(seconds)
    response = admin.patch(f"{url}/api/vms/{vm_id}", json={"expires_at": expires_at})
    assert response.status_code == 200, response.text
    return expires_at


def history(url, session, vm_id: str) -> list[dict]:
    return session.get(f"{url}/api/history", params={"vm_id": vm_id}).json()["items"]


def kinds(url, session) -> list[str]:
    return [n["type"] for n in session.get(f"{url}/api/notifications").json()["items"]]


def wait_until(instant: str) -> None:
    """Let wall-clock time pass an instant (the thing under test is time itself)."""
    delay = (datetime.fromisoformat(instant) - datetime.now(UTC)).total_seconds()
    if delay > 0:
        time.sleep(delay + 0.05)


def test_override_leads_to_release_warning_and_audit(server_factory, watcher_factory):
    url = server_factory(admins=ADMIN).url
    alice, bob, admin = (
        api_session(url, e) for e in ("alice@example.com", "bob@example.com", ADMIN)
    )
    watch_a, watch_b = watcher_factory(url, alice.token), watcher_factory(url, bob.token)

    book_and_expire(url, alice, admin, "vm-1", 2)

    # Inside the 60-minute lead time: the owner is warned at once, nobody else.
    warning = watch_a.wait_for("notification", lambda d: d["type"] == "expiry_warning")
    assert warning["vm_id"] == "vm-1"
    for watcher in (watch_a, watch_b):
        # In order: added (free), booked, re-timed, then freed by the expiry.
        watcher.wait_for("vm_updated", lambda d: d["id"] == "vm-1" and not d["booked_by"])
        watcher.wait_for("vm_updated", lambda d: d["id"] == "vm-1" and d["booked_by"])
        freed = watcher.wait_for("vm_updated", lambda d: d["id"] == "vm-1" and not d["booked_by"])
        assert freed["expires_at"] is None
        note = watcher.wait_for("notification", lambda d: d["type"] == "vm_auto_released")
        assert note["vm_id"] == "vm-1" and note["actor"] is None
    sentinel(admin, url, watch_a, watch_b)
    assert [n for n, d in watch_b.drain() if d.get("type") == "expiry_warning"] == []
    assert [d for n, d in watch_a.drain() if d.get("type") == "expiry_warning"] == [warning]

    released = [h for h in history(url, alice, "vm-1") if h["action"] == "release"]
    assert len(released) == 1
    assert released[0]["reason"] == "expired" and released[0]["actor"] is None
    assert released[0]["user"] == "alice@example.com"
    assert kinds(url, alice).count("expiry_warning") == 1
    assert "expiry_warning" not in kinds(url, bob)


def test_kill_before_expiry_releases_at_startup_once(server_factory):
    server = server_factory(admins=ADMIN)
    url = server.url
    alice, admin = api_session(url, "alice@example.com"), api_session(url, ADMIN)
    expires_at = book_and_expire(url, alice, admin, "vm-1", 1.5)
    server.kill()
    wait_until(expires_at)

    url = server_factory(admins=ADMIN).url  # start-up releases what expired meanwhile
    vm = requests.get(f"{url}/api/vms/vm-1", headers=alice.headers, timeout=5).json()
    assert vm["booked_by"] is None
    again = server_factory(admins=ADMIN).url  # a second start finds nothing more to do
    releases = [h for h in history(again, alice, "vm-1") if h["action"] == "release"]
    assert [r["reason"] for r in releases] == ["expired"]
    assert kinds(again, alice).count("vm_auto_released") == 1


def test_two_instances_release_and_warn_once(server_factory, watcher_factory):
    first = server_factory(admins=ADMIN, sweep_seconds=1, redis_url=REDIS_URL)
    second = server_factory(admins=ADMIN, sweep_seconds=1, redis_url=REDIS_URL)
    alice = api_session(first.url, "alice@example.com")
    admin = api_session(first.url, ADMIN)
    watch = watcher_factory(second.url, alice.token)
    # The first instance has exact jobs for these, the second finds them in its sweep: both
    # race for every release and warning.
    for index in range(5):
        book_and_expire(first.url, alice, admin, f"vm-{index}", 3)
    for index in range(5):
        watch.wait_for(
            "notification",
            lambda d, i=index: d["type"] == "vm_auto_released" and d["vm_id"] == f"vm-{i}",
        )

    restarted = server_factory(admins=ADMIN).url
    for index in range(5):
        releases = [h for h in history(restarted, alice, f"vm-{index}") if h["action"] == "release"]
        assert len(releases) == 1, releases
    notes = kinds(restarted, alice)
    assert notes.count("vm_auto_released") == 5
    assert notes.count("expiry_warning") == 5
