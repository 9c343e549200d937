"""The calendar feed: a secret address serving the person's reserved and active bookings."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from icalendar import Calendar

from tests.api.conftest import error_of
from tests.conftest import utc


def new_feed(client) -> str:
    response = client.post("/api/me/calendar", json={})
    assert response.status_code == 201, response.get_json()
    url = response.get_json()["url"]
    assert url.startswith("http://localhost/calendar/") and url.endswith(".ics")
    return urlsplit(url).path


def events_of(app, path: str) -> dict[str, dict]:
    response = app.test_client().get(path)  # no cookie: the address is the credential
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_feed_lists_own_reserved_and_active_bookings(app, admin, alice, bob, make_vm):
    admin.post("/api/groups", json={"name": "Load rigs"})
    group_id = admin.get("/api/groups").get_json()[0]["id"]
    make_vm("vm-a", group=group_id)
    make_vm("vm-b")
    make_vm("vm-c")
    active_id = alice.post("/api/vms/vm-a/book", json={"hours": 2}).get_json()["booking_id"]
    start = utc(days=1).replace(minute=0, second=0, microsecond=0)
    answer = alice.post(
        "/api/bookings", json={"vm_id": "vm-b", "hours": 3, "start": start.isoformat()}
    )
    assert answer.status_code == 201, answer.get_json()
    reserved = answer.get_json()["bookings"][0]
    bob.post("/api/vms/vm-c/book", json={"hours": 1})
    ended = alice.post("/api/vms/vm-c/book", json={"hours": 1})
    assert ended.status_code == 409  # bob's VM: never alice's

    events = events_of(app, new_feed(alice))
    assert set(events) == {f"booking-{active_id}@loadzone", f"booking-{reserved['id']}@loadzone"}
    rig = events[f"booking-{active_id}@loadzone"]
    assert str(rig["SUMMARY"]) == "VM vm-a" and "Load rigs" in str(rig["DESCRIPTION"])
    later = events[f"booking-{reserved['id']}@loadzone"]
    assert later.decoded("DTSTART") == start
    assert later.decoded("DTEND") - start == timedelta(hours=3)


def test_released_bookings_leave_the_feed(app, alice, make_vm):
    make_vm("vm-a")
    alice.post("/api/vms/vm-a/book", json={"hours": 2})
    path = new_feed(alice)
    assert len(events_of(app, path)) == 1
    assert alice.post("/api/vms/vm-a/release", json={}).status_code == 200
    assert events_of(app, path) == {}


def test_new_address_replaces_the_old_one(app, alice, bob):
    first = new_feed(alice)
    second = new_feed(alice)
    assert first != second
    assert app.test_client().get(first).status_code == 404
    assert app.test_client().get(second).status_code == 200
    bobs = new_feed(bob)
    assert app.test_client().get(second).status_code == 200 and bobs != second


def test_unknown_secrets_are_404(app):
    client = app.test_client()
    for secret in ("nope", "x" * 500, "%00", "é"):
        assert client.get(f"/calendar/{secret}.ics").status_code == 404


def test_feed_needs_a_person_to_create(app):
    error_of(app.test_client().post("/api/me/calendar"), 401)
