"""Pools and the queue through the API: bad input, 202 with the request, holds, leaving."""

from __future__ import annotations

import pytest

from tests.api.conftest import delete, error_of, snapshot


@pytest.fixture
def pool(admin, make_vm):
    group = admin.post("/api/groups", json={"name": "Perf"}).get_json()
    for vm_id in ("p-1", "p-2"):
        make_vm(vm_id, group=group["id"], labels={"cpu": "16"}, address=f"10.0.0.{vm_id[-1]}:22")
    return group["id"]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"vm_id": "p-1", "count": 2, "hours": 1}, "invalid_input"),
        ({"group": 1, "hours": 1, "wait": True, "start": "2031-01-01T00:00:00Z"}, "invalid_input"),
        ({"group": 1, "hours": 1, "count": 0}, "invalid_input"),
        ({"group": 1, "hours": 1, "count": 51}, "invalid_input"),
        ({"group": 1, "hours": 1, "wait": True, "wait_minutes": 0}, "invalid_input"),
        ({"group": 1, "hours": 1, "wait": True, "wait_minutes": 1441}, "invalid_input"),
        ({"group": 1, "hours": 1, "heartbeat_s": 29}, "invalid_input"),
        ({"group": 1, "hours": 1, "heartbeat_s": 3601}, "invalid_input"),
        ({"labels": {"CPU": "16"}, "hours": 1}, "invalid_labels"),
        ({"labels": {"cpu": ""}, "hours": 1}, "invalid_labels"),
        ({"labels": {"cpu": 16}, "hours": 1}, "invalid_input"),
        ({"hours": 1}, "invalid_input"),
        ({"group": 1, "wait": "yes", "hours": 1}, "invalid_input"),
    ],
)
def test_bad_requests_are_400_and_change_nothing(pool, alice, body, code):
    before = snapshot(alice)
    error_of(alice.post("/api/bookings", json=body), 400, code)
    assert snapshot(alice) == before


def test_an_unknown_group_is_404(pool, alice):
    error_of(alice.post("/api/bookings", json={"group": 999, "hours": 1}), 404, "group_not_found")


def test_labels_and_addresses_on_vms(pool, alice, admin):
    vm = alice.get("/api/vms/p-1").get_json()
    assert (vm["labels"], vm["address"], vm["health"]) == ({"cpu": "16"}, "10.0.0.1:22", "unknown")
    assert [v["id"] for v in alice.get("/api/vms?label=cpu=16").get_json()] == ["p-1", "p-2"]
    assert alice.get("/api/vms?label=cpu=16&label=zone=a").get_json() == []
    error_of(alice.get("/api/vms?label=cpu"), 400, "invalid_labels")
    for address in ("http://x:22", "a b", "x" * 256, "host:99999"):
        error_of(admin.patch("/api/vms/p-1", json={"address": address}), 400)
    too_many = {f"k{i}": "v" for i in range(21)}
    error_of(admin.patch("/api/vms/p-1", json={"labels": too_many}), 400, "invalid_labels")
    changed = admin.patch("/api/vms/p-1", json={"labels": {"zone": "b"}, "address": None})
    assert (changed.get_json()["labels"], changed.get_json()["address"]) == ({"zone": "b"}, None)


def test_waiting_answers_202_with_the_request_and_holds(pool, alice, bob):
    assert alice.post("/api/bookings", json={"vm_id": "p-1", "hours": 2}).status_code == 201
    waiting = bob.post("/api/bookings", json={"group": pool, "count": 2, "hours": 1, "wait": True})
    assert waiting.status_code == 202, waiting.get_json()
    body = waiting.get_json()
    assert body["bookings"] == []
    request = body["request"]
    assert (request["state"], request["position"], request["count"], request["owner"]) == (
        "waiting",
        1,
        2,
        "bob@example.com",
    )
    assert request["held_vm_ids"] == ["p-2"] and request["eta"]
    vm = alice.get("/api/vms/p-2").get_json()
    assert (vm["status"], vm["held_for"]) == ("held", request["id"])
    error_of(alice.post("/api/vms/p-2/book", json={"hours": 1}), 409, "held")
    assert [r["id"] for r in alice.get("/api/queue").get_json()] == [request["id"]]
    assert alice.get(f"/api/queue/{request['id']}").get_json()["state"] == "waiting"

    # The release hands both VMs over in the same transaction.
    assert alice.post("/api/vms/p-1/release", json={}).status_code == 200
    granted = bob.get(f"/api/queue/{request['id']}").get_json()
    assert granted["state"] == "granted" and len(granted["booking_ids"]) == 2
    assert {v["booked_by"] for v in alice.get("/api/vms").get_json()} == {"bob@example.com"}
    assert alice.get("/api/queue").get_json() == []


def test_leaving_the_queue(pool, alice, bob):
    for vm_id in ("p-1", "p-2"):
        alice.post("/api/bookings", json={"vm_id": vm_id, "hours": 2})
    request = bob.post("/api/bookings", json={"group": pool, "hours": 1, "wait": True})
    request_id = request.get_json()["request"]["id"]
    error_of(delete(alice, f"/api/queue/{request_id}"), 403, "not_owner")
    left = delete(bob, f"/api/queue/{request_id}")
    assert left.status_code == 200 and left.get_json()["state"] == "cancelled"
    error_of(delete(bob, f"/api/queue/{request_id}"), 409, "not_waiting")
    error_of(bob.get("/api/queue/999"), 404)


def test_heartbeat_endpoint(pool, alice, bob):
    made = alice.post("/api/bookings", json={"vm_id": "p-1", "hours": 1, "heartbeat_s": 60})
    booking = made.get_json()["bookings"][0]
    assert booking["heartbeat_s"] == 60
    path = f"/api/bookings/{booking['id']}/heartbeat"
    beat = alice.post(path, json={})
    assert beat.status_code == 200 and beat.get_json()["last_heartbeat"]
    error_of(bob.post(path, json={}), 403, "not_owner")
    plain = alice.post("/api/bookings", json={"vm_id": "p-2", "hours": 1}).get_json()
    error_of(alice.post(f"/api/bookings/{plain['bookings'][0]['id']}/heartbeat", json={}), 409)
