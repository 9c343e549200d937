"""Booking policies: weekly hours, a group's longest booking, active bookings."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from loadzone.booking import bookings, reservations
from loadzone.errors import Conflict
from loadzone.extensions import db
from loadzone.inventory import catalog
from loadzone.models import Booking
from tests.unit.conftest import ADMIN, ALICE, BOB, RULES, T0, at, run

WEEKLY = replace(RULES, max_hours_per_week=10)


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def test_weekly_hours_count_held_and_reserved_time(add_vm):
    for vm_id in ("vm-1", "vm-2", "vm-3"):
        add_vm(vm_id)
    run(bookings.book, ALICE, "vm-1", 4, T0, WEEKLY)
    run(reservations.reserve, ALICE, "vm-2", at(days=2), 5, T0, WEEKLY)
    before = count()
    with pytest.raises(Conflict) as caught:
        run(reservations.reserve, ALICE, "vm-3", at(days=3), 2, T0, WEEKLY)
    assert caught.value.code == "quota_exceeded"
    assert "10 h" in caught.value.message and "1 h are left" in caught.value.message
    assert count() == before
    # One hour fits, another person is not affected, and time a week later is free again.
    run(reservations.reserve, ALICE, "vm-3", at(days=3), 1, T0, WEEKLY)
    run(reservations.reserve, BOB, "vm-3", at(days=4), 8, T0, WEEKLY)
    run(reservations.reserve, ALICE, "vm-3", at(days=9, hours=1), 8, T0, WEEKLY)


def test_weekly_hours_look_at_every_seven_day_window(add_vm):
    add_vm("vm-1")
    add_vm("vm-2")
    # 6 h on day 0 and 6 h on day 8: no 7-day window holds both ...
    run(bookings.book, ALICE, "vm-1", 6, T0, WEEKLY)
    run(reservations.reserve, ALICE, "vm-1", at(days=8), 6, T0, WEEKLY)
    # ... but one on day 4 would share a window with either.
    with pytest.raises(Conflict):
        run(reservations.reserve, ALICE, "vm-2", at(days=4), 5, T0, WEEKLY)
    run(reservations.reserve, ALICE, "vm-2", at(days=4), 4, T0, WEEKLY)


def test_released_time_stops_counting_and_cancelled_time_never_counts(add_vm):
    add_vm("vm-1")
    add_vm("vm-2")
    run(bookings.book, ALICE, "vm-1", 8, T0, WEEKLY)
    run(bookings.release, ALICE, "vm-1", at(hours=1))
    planned = run(reservations.reserve, ALICE, "vm-2", at(days=1), 9, T0, WEEKLY)
    run(reservations.withdraw, ALICE, planned.id, at(hours=2))
    run(reservations.reserve, ALICE, "vm-2", at(days=2), 9, at(hours=2), WEEKLY)


def test_renewals_count_against_the_week(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 8, T0, WEEKLY)
    with pytest.raises(Conflict) as caught:
        run(bookings.renew, ALICE, "vm-1", 3, T0, WEEKLY)
    assert caught.value.code == "quota_exceeded"
    assert run(bookings.renew, ALICE, "vm-1", 2, T0, WEEKLY).expires_at == at(hours=10)


def test_a_group_limits_the_length_of_its_vms_bookings(add_vm):
    group = run(catalog.create_group, ADMIN, T0, "Short")
    add_vm("vm-1", group=group.id)
    add_vm("vm-2")
    run(catalog.edit_group, ADMIN, group.id, None, None, max_hours=3)
    for attempt in (
        lambda: run(bookings.book, ALICE, "vm-1", 4, T0, RULES),
        lambda: run(reservations.reserve, ALICE, "vm-1", at(hours=5), 4, T0, RULES),
    ):
        with pytest.raises(Conflict) as caught:
            attempt()
        assert caught.value.code == "quota_exceeded"
        assert "Short" in caught.value.message and "3 h" in caught.value.message
    run(bookings.book, ALICE, "vm-1", 3, T0, RULES)
    with pytest.raises(Conflict):
        run(bookings.renew, ALICE, "vm-1", 1, T0, RULES)
    assert run(bookings.book, ALICE, "vm-2", 10, T0, RULES).expires_at == at(hours=10)
    run(catalog.edit_group, ADMIN, group.id, None, None, max_hours=None)
    assert run(bookings.renew, ALICE, "vm-1", 1, T0, RULES).expires_at == at(hours=4)


def test_the_active_limit_counts_active_bookings_only(add_vm):
    limited = replace(RULES, max_active_bookings=1)
    for vm_id in ("vm-1", "vm-2"):
        add_vm(vm_id)
    run(reservations.reserve, ALICE, "vm-2", at(hours=5), 1, T0, limited)
    run(bookings.book, ALICE, "vm-1", 1, T0, limited)
    with pytest.raises(Conflict) as caught:
        run(bookings.book, ALICE, "vm-2", 1, T0, limited)
    assert caught.value.code == "quota_exceeded"
    assert "none is left" in caught.value.message
