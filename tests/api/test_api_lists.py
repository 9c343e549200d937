"""Paginated lists (history, my bookings, notifications), read marks, and the export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import error_of, walk_pages

PAGED = ["/api/history", "/api/me/bookings", "/api/notifications"]


@pytest.fixture
def busy(admin, alice, bob, make_vm):
    """Eleven audit records for alice, four for bob, and 20 VMs added (20 notifications)."""
    for index in range(20):
        make_vm(f"vm-{index:02d}")
    for index in range(4):
        vm = f"vm-{index:02d}"
        assert alice.post(f"/api/vms/{vm}/book", json={"hours": 2}).status_code == 200
        assert alice.post(f"/api/vms/{vm}/renew", json={"hours": 1}).status_code == 200
    for index in range(3):
        assert alice.post(f"/api/vms/vm-{index:02d}/release", json={}).status_code == 200
    for index in range(10, 14):
        assert bob.post(f"/api/vms/vm-{index}/book", json={"hours": 1}).status_code == 200


@pytest.mark.parametrize("path", PAGED)
def test_cursor_chains_through_every_item_once_newest_first(busy, alice, path):
    everything = alice.get(f"{path}?limit=500").get_json()
    assert everything["next_cursor"] is None
    expected = [item["id"] for item in everything["items"]]
    assert (
        len(expected)
        == {"/api/history": 15, "/api/me/bookings": 11, "/api/notifications": 35}[path]
    )
    assert expected == sorted(expected, reverse=True), "not newest first"
    for limit in (1, 3, 7, len(expected), 500):
        pages = walk_pages(alice, path, limit)
        ids = [item["id"] for page in pages for item in page]
        assert ids == expected, f"limit={limit}: every item exactly once, in order"
        assert all(len(page) == limit for page in pages[:-1]), f"limit={limit}"
        assert 1 <= len(pages[-1]) <= limit


def test_default_limit_is_50(admin, make_vm):
    for index in range(26):
        vm = make_vm(f"vm-{index}")
        admin.post(f"/api/vms/{vm['id']}/book", json={"hours": 1})
        admin.post(f"/api/vms/{vm['id']}/release", json={})
    # 26 books and 26 releases; notifications also hold the 26 "vm_added".
    for path, total in (("/api/history", 52), ("/api/me/bookings", 52), ("/api/notifications", 78)):
        body = admin.get(path).get_json()
        assert set(body) >= {"items", "next_cursor"}
        assert len(body["items"]) == 50, path
        assert body["next_cursor"] is not None, path
        rest = admin.get(f"{path}?cursor={body['next_cursor']}").get_json()
        assert len(rest["items"]) == total - 50, path
        assert rest["next_cursor"] is None, path


@pytest.mark.parametrize("path", PAGED)
def test_empty_list(bob, path):
    assert bob.get(path).get_json()["items"] == []
    assert bob.get(path).get_json()["next_cursor"] is None


def test_history_filters(busy, bob):
    def fetch(query):
        return bob.get(f"/api/history?limit=500&{query}").get_json()["items"]

    assert {r["vm_id"] for r in fetch("vm_id=vm-00")} == {"vm-00"}
    assert [r["action"] for r in fetch("vm_id=vm-00")] == ["release", "renew", "book"]
    assert {r["user"] for r in fetch("user=bob@example.com")} == {"bob@example.com"}
    assert len(fetch("user=BOB@example.com")) == 4
    assert {r["action"] for r in fetch("action=renew")} == {"renew"}
    assert len(fetch("action=release")) == 3
    now = datetime.now(UTC)
    assert len(fetch(f"since={(now - timedelta(minutes=5)).isoformat().replace('+', '%2B')}")) == 15
    assert fetch(f"since={(now + timedelta(minutes=5)).isoformat().replace('+', '%2B')}") == []
    assert fetch(f"until={(now - timedelta(minutes=5)).isoformat().replace('+', '%2B')}") == []
    filtered = walk_pages(bob, "/api/history?user=alice@example.com", 4)
    assert sum(len(page) for page in filtered) == 11


def test_history_record_shape(busy, bob):
    record = bob.get("/api/history?user=bob@example.com&limit=1").get_json()["items"][0]
    keys = {"id", "at", "action", "reason", "vm_id", "user", "actor", "start", "end", "booking_id"}
    assert set(record) == keys
    assert (record["action"], record["vm_id"], record["user"], record["actor"]) == (
        "book",
        "vm-13",
        "bob@example.com",
        "bob@example.com",
    )
    start, end = datetime.fromisoformat(record["start"]), datetime.fromisoformat(record["end"])
    assert end - start == timedelta(hours=1)
    assert record["at"] == record["start"]


def test_my_bookings_are_only_mine_including_what_others_did_to_them(stocked, admin, alice, bob):
    admin.post("/api/vms/vm-booked/renew", json={"hours": 1})
    admin.post("/api/vms/vm-booked/release", json={})
    bob.post("/api/vms/vm-free/book", json={"hours": 1})
    mine = alice.get("/api/me/bookings").get_json()["items"]
    assert [(r["action"], r["actor"]) for r in mine] == [
        ("release", "admin@example.com"),
        ("renew", "admin@example.com"),
        ("book", "alice@example.com"),
    ]
    assert {r["user"] for r in mine} == {"alice@example.com"}
    assert admin.get("/api/me/bookings").get_json()["items"] == []
    assert [r["vm_id"] for r in bob.get("/api/me/bookings").get_json()["items"]] == ["vm-free"]


# -- notifications -------------------------------------------------------------------------


def test_notification_shape_and_types(stocked, alice, bob):
    bob.post("/api/vms/vm-free/book", json={"hours": 1})
    bob.post("/api/vms/vm-free/renew", json={"hours": 1})
    bob.post("/api/vms/vm-free/release", json={})
    body = alice.get("/api/notifications").get_json()
    types = [n["type"] for n in body["items"]]
    assert types[:4] == ["vm_released", "vm_renewed", "vm_booked", "vm_booked"]
    assert types.count("vm_added") == 3
    assert "group_created" in types
    for note in body["items"]:
        assert set(note) >= {"id", "type", "message", "vm_id", "group_id", "actor", "created_at"}
        assert note["read"] is False
    assert body["items"][0]["actor"] == "bob@example.com"
    assert body["items"][0]["vm_id"] == "vm-free"
    assert "vm-free" in body["items"][0]["message"]
    assert body["unread"] == len(body["items"])


def test_read_marks_are_per_person(stocked, alice, bob):
    items = alice.get("/api/notifications").get_json()["items"]
    first, second = items[0]["id"], items[1]["id"]
    response = alice.post("/api/notifications/read", json={"ids": [first, second]})
    assert response.status_code == 200
    assert response.get_json() == {"marked": 2, "unread": len(items) - 2}
    read = {n["id"]: n["read"] for n in alice.get("/api/notifications").get_json()["items"]}
    assert read[first] is read[second] is True
    assert sum(read.values()) == 2
    bobs = bob.get("/api/notifications").get_json()
    assert not any(n["read"] for n in bobs["items"])
    assert bobs["unread"] == len(items)
    # Marking again is harmless.
    again = alice.post("/api/notifications/read", json={"ids": [first]}).get_json()
    assert again["unread"] == len(items) - 2


def test_mark_all_read_then_new_ones_are_unread(stocked, alice, bob, make_vm):
    response = alice.post("/api/notifications/read", json={"all": True})
    assert response.status_code == 200
    assert response.get_json()["unread"] == 0
    assert all(n["read"] for n in alice.get("/api/notifications").get_json()["items"])
    assert bob.get("/api/notifications").get_json()["unread"] > 0
    make_vm("vm-new")
    body = alice.get("/api/notifications").get_json()
    assert body["unread"] == 1
    assert (body["items"][0]["type"], body["items"][0]["read"]) == ("vm_added", False)


def test_unknown_ids_mark_nothing(stocked, alice):
    unread = alice.get("/api/notifications").get_json()["unread"]
    response = alice.post("/api/notifications/read", json={"ids": [999999]})
    assert response.get_json() == {"marked": 0, "unread": unread}


def test_expiry_warning_is_visible_only_to_its_owner(stocked, admin, alice, bob, run_job):
    expires = datetime.fromisoformat(alice.get("/api/vms/vm-booked").get_json()["expires_at"])
    assert run_job("warn", "vm-booked", expires - timedelta(minutes=30)) == "alice@example.com"

    def warnings(client):
        items = client.get("/api/notifications?limit=500").get_json()["items"]
        return [n for n in items if n["type"] == "expiry_warning"]

    mine = warnings(alice)
    assert len(mine) == 1
    assert mine[0]["vm_id"] == "vm-booked"
    assert "30 min" in mine[0]["message"]
    assert warnings(bob) == []
    assert warnings(admin) == []
    # Nobody else can mark it read either.
    assert (
        bob.post("/api/notifications/read", json={"ids": [mine[0]["id"]]}).get_json()["marked"] == 0
    )
    assert warnings(alice)[0]["read"] is False
    alice.post("/api/notifications/read", json={"ids": [mine[0]["id"]]})
    assert warnings(alice)[0]["read"] is True
    # Sent once.
    assert run_job("warn", "vm-booked", expires - timedelta(minutes=20)) is None
    assert len(warnings(alice)) == 1


def test_auto_release_notifies_everyone(stocked, alice, bob, run_job):
    expires = datetime.fromisoformat(alice.get("/api/vms/vm-booked").get_json()["expires_at"])
    assert run_job("release", "vm-booked", expires + timedelta(seconds=1)) is True
    for client in (alice, bob):
        latest = client.get("/api/notifications?limit=1").get_json()["items"][0]
        assert (latest["type"], latest["vm_id"], latest["actor"]) == (
            "vm_auto_released",
            "vm-booked",
            None,
        )


# -- export --------------------------------------------------------------------------------


def test_export_has_the_seed_shape(stocked, admin, alice):
    data = admin.get("/api/export").get_json()
    vms = {vm["id"]: vm for vm in data["vms"]}
    assert vms["vm-booked"]["booked_by"] == "alice@example.com"
    assert datetime.fromisoformat(vms["vm-booked"]["expires_at"]).utcoffset() == timedelta(0)
    assert vms["vm-free"]["group"] == stocked["id"]
    assert vms["vm-maint"]["maintenance"] is True
    assert data["groups"] == [{"id": stocked["id"], "name": "Perf", "vm_ids": ["vm-free"]}]
    alice_data = data["users"]["alice@example.com"]
    assert set(alice_data) == {"created", "bookings"}
    assert [b["action"] for b in alice_data["bookings"]] == ["book"]
    assert set(alice_data["bookings"][0]) == {"vm_id", "start", "end", "action"}


def test_invalid_cursor_on_every_list(alice):
    for path in PAGED:
        error_of(alice.get(f"{path}?cursor=not-a-cursor"), 400, "invalid_cursor")
