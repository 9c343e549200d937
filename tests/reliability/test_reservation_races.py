"""Reservations against real servers: one winner per slot, and starts that survive kill -9."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.reliability.test_races_and_crashes import (
    TIMEOUT,
    all_at_once,
    api_session,
    audit,
    close_sessions,  # noqa: F401  (autouse fixture)
    sessions,
    statuses,
)
from tests.sockets import Watcher

pytestmark = pytest.mark.server


def slot(hours_ahead: float = 2) -> str:
    start = datetime.now(UTC) + timedelta(hours=hours_ahead)
    return start.replace(microsecond=0).isoformat()


def check_one_winner(responses, admin, url: str, vm_id: str) -> None:
    assert statuses(responses) == {201: 1, 409: 19}, statuses(responses)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "not_available"
    }
    listed = admin.get(url + "/api/bookings", params={"vm_id": vm_id}, timeout=TIMEOUT).json()
    assert [b["state"] for b in listed["items"]] == ["reserved"]
    assert len(audit(admin, url, vm_id=vm_id, action="reserve")) == 1


def test_twenty_people_reserve_one_slot_at_the_same_instant(server_factory):
    server = server_factory(admins="admin@example.com")
    admin = api_session(server.url, "admin@example.com")
    assert admin.post(server.url + "/api/vms", json={"id": "hot"}).status_code == 201
    people = sessions([server.url], 20)
    # Overlapping but different slots: the database, not equality, must settle it.
    body = {"vm_id": "hot", "hours": 2, "start": slot(2)}

    responses = all_at_once(people, "POST", "/api/bookings", body)

    check_one_winner(responses, admin, server.url, "hot")


def test_two_instances_reserving_one_slot_have_one_winner(server_factory):
    first = server_factory(admins="admin@example.com")
    second = server_factory(admins="admin@example.com")
    admin = api_session(first.url, "admin@example.com")
    assert admin.post(first.url + "/api/vms", json={"id": "shared"}).status_code == 201
    people = sessions([first.url, second.url], 20)

    responses = all_at_once(
        people, "POST", "/api/bookings", {"vm_id": "shared", "hours": 3, "start": slot(5)}
    )

    check_one_winner(responses, admin, first.url, "shared")


def test_a_reservation_starts_on_time_across_kill_9_and_two_instances(server_factory):
    first = server_factory(admins="admin@example.com")
    admin = api_session(first.url, "admin@example.com")
    alice = api_session(first.url, "alice@example.com")
    assert admin.post(first.url + "/api/vms", json={"id": "vm-s"}).status_code == 201
    made = alice.post(
        first.url + "/api/bookings", json={"vm_id": "vm-s", "hours": 1, "start": slot(1)}
    )
    assert made.status_code == 201
    booking = made.json()["bookings"][0]
    first.kill()  # the start job it planned dies with it

    # Meanwhile the reservation's start comes (moved to the near past in the database).
    start = datetime.now(UTC) + timedelta(seconds=2)
    engine_url = first.env["LOADZONE_DATABASE_URL"]
    _set_start(engine_url, booking["id"], start)

    second = server_factory(admins="admin@example.com")
    third = server_factory(admins="admin@example.com")
    watch = Watcher(second.url, alice.token).connect()
    try:
        vm = watch.wait_for(
            "vm_updated", lambda d: d["id"] == "vm-s" and d["booking_id"], timeout=15
        )
        note = watch.wait_for("notification", lambda d: d["type"] == "reservation_started")
    finally:
        watch.close()
    assert vm["booked_by"] == "alice@example.com" and vm["booking_id"] == booking["id"]
    assert note["vm_id"] == "vm-s"
    lag = datetime.now(UTC) - start
    assert lag < timedelta(seconds=8), lag
    for server in (second, third):
        shown = requests.get(
            f"{server.url}/api/bookings/{booking['id']}", headers=alice.headers, timeout=TIMEOUT
        ).json()
        assert shown["state"] == "active"
    books = audit(admin, second.url, vm_id="vm-s", action="book")
    assert len(books) == 1 and books[0]["booking_id"] == booking["id"]


def _set_start(url: str, booking_id: int, start: datetime) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE bookings SET start = :s WHERE id = :i"),
            {"s": start.replace(tzinfo=None), "i": booking_id},
        )
    engine.dispose()
