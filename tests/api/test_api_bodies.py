"""Actions without parameters accept only an empty object; mark-all reports what it read."""

from __future__ import annotations


def test_release_and_logout_refuse_unknown_fields(alice, make_booking):
    vm = make_booking(alice)
    response = alice.post(f"/api/vms/{vm['id']}/release", json={"force": True})
    assert response.status_code == 400
    assert "force" in response.get_json()["error"]["message"]
    assert alice.get(f"/api/vms/{vm['id']}").get_json()["booked_by"] == "alice@example.com"
    assert alice.post("/api/auth/logout", json={"everywhere": True}).status_code == 400
    assert alice.get("/api/me").status_code == 200
    assert alice.post(f"/api/vms/{vm['id']}/release", json={}).status_code == 200


def test_mark_all_read_counts_what_was_unread(alice, make_vm):
    for _ in range(3):
        make_vm()
    unread = alice.get("/api/notifications").get_json()["unread"]
    assert unread == 3
    answer = alice.post("/api/notifications/read", json={"all": True}).get_json()
    assert answer == {"marked": 3, "unread": 0}
    again = alice.post("/api/notifications/read", json={"all": True}).get_json()
    assert again == {"marked": 0, "unread": 0}
