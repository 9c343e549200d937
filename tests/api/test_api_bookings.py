"""/api/bookings: book now or reserve, read, list, move, cancel; and every refusal."""

from __future__ import annotations

import pytest

from tests.api.conftest import delete, error_of, snapshot, walk_pages
from tests.conftest import utc

BOOKING_KEYS = {
    "id",
    "vm_id",
    "owner",
    "start",
    "end",
    "state",
    "ended_at",
    "end_reason",
    "request_id",
    "heartbeat_s",
    "last_heartbeat",
    "created_at",
}


def iso(moment) -> str:
    return moment.replace(microsecond=0).isoformat()


def reserve(client, vm_id: str, start, hours: int = 2, status: int = 201):
    response = client.post(
        "/api/bookings", json={"vm_id": vm_id, "hours": hours, "start": iso(start)}
    )
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_booking_now_answers_the_booking_and_the_vm_shows_it(make_vm, alice):
    make_vm("vm-1")
    response = alice.post("/api/bookings", json={"vm_id": "vm-1", "hours": 2})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["request"] is None
    [booking] = body["bookings"]
    assert set(booking) == BOOKING_KEYS
    assert (booking["state"], booking["owner"], booking["vm_id"]) == (
        "active",
        "alice@example.com",
        "vm-1",
    )
    vm = alice.get("/api/vms/vm-1").get_json()
    assert (vm["booked_by"], vm["booking_id"], vm["expires_at"]) == (
        "alice@example.com",
        booking["id"],
        booking["end"],
    )
    assert alice.get(f"/api/bookings/{booking['id']}").get_json() == booking
    again = alice.post("/api/bookings", json={"vm_id": "vm-1", "hours": 1})
    assert "until" in error_of(again, 409, "not_available")["message"]


def test_a_reservation_shows_as_the_vms_next_reservation(make_vm, alice, bob):
    make_vm("vm-1")
    [booking] = reserve(alice, "vm-1", utc(hours=3))["bookings"]
    assert booking["state"] == "reserved"
    vm = bob.get("/api/vms/vm-1").get_json()
    assert vm["status"] == "free" and vm["booked_by"] is None
    assert vm["next_reservation"] == {
        "id": booking["id"],
        "start": booking["start"],
        "owner": "alice@example.com",
    }
    listed = {v["id"]: v for v in bob.get("/api/vms").get_json()}
    assert listed["vm-1"]["next_reservation"]["id"] == booking["id"]
    overlap = {"vm_id": "vm-1", "hours": 2, "start": iso(utc(hours=4))}
    error_of(bob.post("/api/bookings", json=overlap), 409, "not_available")
    refused = bob.post("/api/vms/vm-1/book", json={"hours": 4})
    assert "at most 2 h can be booked" in error_of(refused, 409, "reserved")["message"]


def test_move_and_cancel_a_reservation(make_vm, alice, bob):
    make_vm("vm-1")
    [booking] = reserve(alice, "vm-1", utc(hours=3))["bookings"]
    path = f"/api/bookings/{booking['id']}"
    error_of(bob.patch(path, json={"start": iso(utc(hours=5))}), 403, "not_owner")
    later = iso(utc(hours=5))  # once: two calls may fall in different seconds
    moved = alice.patch(path, json={"start": later})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["start"] == later
    error_of(delete(bob, path), 403, "not_owner")
    cancelled = delete(alice, path)
    assert cancelled.status_code == 200
    assert (cancelled.get_json()["state"], cancelled.get_json()["end_reason"]) == (
        "cancelled",
        "cancelled",
    )
    error_of(delete(alice, path), 409, "booking_ended")
    error_of(alice.patch(path, json={"start": iso(utc(hours=6))}), 409, "booking_ended")
    actions = [r["action"] for r in alice.get("/api/history?vm_id=vm-1").get_json()["items"]]
    assert actions == ["cancel", "reserve", "reserve"]


def test_list_filters_and_pages(make_vm, alice, bob, admin):
    group = admin.post("/api/groups", json={"name": "Perf"}).get_json()
    make_vm("vm-1", group=group["id"])
    make_vm("vm-2")
    active = alice.post("/api/bookings", json={"vm_id": "vm-1", "hours": 2}).get_json()
    later = reserve(bob, "vm-2", utc(hours=10))["bookings"][0]
    far = reserve(alice, "vm-1", utc(days=3))["bookings"][0]

    def ids(query: str) -> list[int]:
        response = alice.get("/api/bookings" + query)
        assert response.status_code == 200, response.get_json()
        return [b["id"] for b in response.get_json()["items"]]

    first = active["bookings"][0]["id"]
    assert ids("") == [first, later["id"], far["id"]]
    assert ids("?state=reserved") == [later["id"], far["id"]]
    assert ids("?state=active,reserved&owner=alice@example.com") == [first, far["id"]]
    assert ids(f"?group={group['id']}") == [first, far["id"]]
    window = f"?from={iso(utc(hours=5))}&to={iso(utc(hours=11))}".replace("+", "%2B")
    assert ids(window) == [later["id"]]
    assert [len(p) for p in walk_pages(alice, "/api/bookings", 2)] == [2, 1]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"vm_id": "vm-1", "hours": 1.5}, "invalid_input"),
        ({"vm_id": "vm-1", "hours": "2"}, "invalid_input"),
        ({"vm_id": "vm-1", "hours": 0}, "invalid_hours"),
        ({"vm_id": "vm-1", "hours": 25}, "invalid_hours"),
        ({"vm_id": "vm-1"}, "invalid_input"),
        ({"vm_id": "vm-1", "hours": 1, "surprise": 1}, "invalid_input"),
        ({"vm_id": "vm-1", "hours": 1, "start": "yesterday"}, "invalid_input"),
    ],
)
def test_bad_bodies_are_400_and_change_nothing(make_vm, alice, body, code):
    make_vm("vm-1")
    before = snapshot(alice)
    error_of(alice.post("/api/bookings", json=body), 400, code)
    assert snapshot(alice) == before


def test_starts_in_the_past_or_beyond_the_horizon_are_400(make_vm, alice):
    make_vm("vm-1")
    before = snapshot(alice)
    for start in (utc(minutes=-5), utc(days=31)):
        body = {"vm_id": "vm-1", "hours": 1, "start": iso(start)}
        error_of(alice.post("/api/bookings", json=body), 400, "invalid_start")
    assert snapshot(alice) == before


def test_unknown_things_are_404(make_vm, alice):
    error_of(alice.post("/api/bookings", json={"vm_id": "nope", "hours": 1}), 404, "vm_not_found")
    for path in ("/api/bookings/999", "/api/bookings/99999999999999999999"):
        error_of(alice.get(path), 404)
        error_of(alice.patch(path, json={"end": iso(utc(hours=2))}), 404)
        error_of(delete(alice, path), 404)


def test_bad_list_queries_are_400(alice):
    error_of(alice.get("/api/bookings?state=lost"), 400, "invalid_input")
    error_of(alice.get("/api/bookings?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z"), 400)
    error_of(alice.get("/api/bookings?limit=501"), 400)


def test_a_group_sets_the_longest_booking(make_vm, alice, admin):
    group = admin.post("/api/groups", json={"name": "Short"}).get_json()
    assert group["max_hours"] is None
    changed = admin.patch(f"/api/groups/{group['id']}", json={"max_hours": 2})
    assert changed.get_json()["max_hours"] == 2
    make_vm("vm-1", group=group["id"])
    refused = alice.post("/api/bookings", json={"vm_id": "vm-1", "hours": 3})
    assert "Short" in error_of(refused, 409, "quota_exceeded")["message"]
    error_of(admin.patch(f"/api/groups/{group['id']}", json={"max_hours": 0}), 400)
    error_of(admin.patch(f"/api/groups/{group['id']}", json={"max_hours": "2"}), 400)
    unset = admin.patch(f"/api/groups/{group['id']}", json={"max_hours": None})
    assert unset.get_json()["max_hours"] is None
    assert alice.post("/api/bookings", json={"vm_id": "vm-1", "hours": 3}).status_code == 201


def test_usage_endpoint(make_vm, alice):
    make_vm("vm-1")
    assert alice.post("/api/vms/vm-1/book", json={"hours": 2}).status_code == 200
    for days in (7, 30):
        body = alice.get(f"/api/usage?days={days}").get_json()
        assert set(body) == {"from", "to", "groups", "vms", "queue"}
        [vm] = body["vms"]
        assert vm["vm_id"] == "vm-1" and vm["bookings"] == 1
        assert 0 <= vm["hours"] < 0.01
    for bad in ("", "?days=10", "?days=x"):
        error_of(alice.get("/api/usage" + bad), 400)
