"""Usage computed by the database: the overlap of each booking with the window."""

from __future__ import annotations

import pytest

from loadzone.booking import bookings, reservations
from loadzone.errors import Invalid
from loadzone.inventory import catalog
from loadzone.reporting import usage
from tests.unit.conftest import ADMIN, ALICE, BOB, RULES, T0, at, run

DAY = 24.0


def test_usage_counts_the_part_of_each_booking_inside_the_window(add_vm):
    group = run(catalog.create_group, ADMIN, T0, "Perf")
    add_vm("vm-1", group=group.id)
    add_vm("vm-2", group=group.id)
    add_vm("vm-3")
    # Began before the window (days=7 ends at T0+8d): 3 h of its 5 h fall inside.
    run(bookings.book, ALICE, "vm-1", 5, at(hours=22), RULES)
    # Released early: 2 h held, not the 6 booked.
    run(bookings.book, BOB, "vm-2", 6, at(days=3), RULES)
    run(bookings.release, BOB, "vm-2", at(days=3, hours=2))
    # Still active at the end of the window: counts until then.
    run(bookings.book, ALICE, "vm-3", 10, at(days=8, hours=-4), RULES)
    # Reserved and cancelled time never counts.
    run(reservations.reserve, BOB, "vm-1", at(days=9), 2, at(days=8), RULES)

    report = usage.report(at(days=8), 7)

    assert report["from"] == at(days=1).isoformat() and report["to"] == at(days=8).isoformat()
    vms = {row["vm_id"]: row for row in report["vms"]}
    assert (vms["vm-1"]["bookings"], vms["vm-1"]["hours"]) == (1, 3.0)
    assert (vms["vm-2"]["bookings"], vms["vm-2"]["hours"]) == (1, 2.0)
    assert (vms["vm-3"]["bookings"], vms["vm-3"]["hours"]) == (1, 4.0)
    assert vms["vm-3"]["occupancy"] == round(4 / (7 * DAY), 4)
    perf, ungrouped = report["groups"]
    assert (perf["group"], perf["name"], perf["bookings"], perf["hours"], perf["people"]) == (
        group.id,
        "Perf",
        2,
        5.0,
        2,
    )
    assert perf["occupancy"] == round(5 / (2 * 7 * DAY), 4)
    assert (ungrouped["group"], ungrouped["hours"], ungrouped["people"]) == (None, 4.0, 1)
    assert report["queue"]["requests"] == 0


def test_bookings_outside_the_window_do_not_count(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    report = usage.report(at(days=31), 30)
    assert report["vms"] == [{"vm_id": "vm-1", "bookings": 0, "hours": 0.0, "occupancy": 0.0}]


def test_only_seven_or_thirty_days(ctx):
    with pytest.raises(Invalid):
        usage.report(T0, 10)
