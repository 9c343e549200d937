"""Usage from rolled-up days equals usage computed from every booking."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from loadzone.booking import bookings, reservations
from loadzone.extensions import db
from loadzone.inventory import catalog
from loadzone.models import Booking, UsageMark
from loadzone.reporting import rollup, usage, usage_fast
from tests.unit.conftest import ADMIN, ALICE, BOB, RULES, T0, at, run

MINUTE = timedelta(minutes=1)
PEOPLE = [f"p{k}@example.com" for k in range(7)]


def both_ways(now, days):
    """(report through the rolled-up days, report straight from the bookings)."""
    vms = dict(db.session.execute(select(catalog.Vm.id, catalog.Vm.group_id)).all())
    since = now - timedelta(days=days)
    assert usage_fast.held(since, now, vms) is not None, "the rolled-up days were not used"
    fast = usage.report(now, days)
    original = usage_fast.held
    usage_fast.held = lambda *args: None
    try:
        slow = usage.report(now, days)
    finally:
        usage_fast.held = original
    return fast, slow


def _random_bookings(rng: random.Random, vm_ids: list[str], now) -> list[dict]:
    """Per VM, one booking after another over 40 days: released early, overdue, held to
    the end; the last may be active or reserved; cancelled ones in between."""
    rows = []
    for vm_id in vm_ids:
        t = now - timedelta(days=40) + rng.randrange(600) * MINUTE
        while True:
            start = t
            end = start + rng.randrange(5, 36 * 60) * MINUTE
            if end >= now:
                state = rng.choice(["active", "reserved"]) if start > now - 2 * MINUTE * 60 else ""
                if state:
                    rows.append(_row(vm_id, rng, start, max(end, now + MINUTE), state, None))
                break
            ended = end + rng.randrange(-300, 60) * MINUTE
            ended = min(max(ended, start + MINUTE), now)
            rows.append(_row(vm_id, rng, start, end, "ended", ended))
            if rng.random() < 0.2:
                rows.append(_row(vm_id, rng, end, end + 90 * MINUTE, "cancelled", None))
            t = max(end, ended) + rng.randrange(0, 20 * 60) * MINUTE
    return rows


def _row(vm_id, rng, start, end, state, ended_at) -> dict:
    return {
        "vm_id": vm_id,
        "owner": rng.choice(PEOPLE),
        "start": start,
        "end": end,
        "state": state,
        "ended_at": ended_at,
        "created_at": start - MINUTE,
        "warned": False,
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_rolled_up_days_give_the_figures_of_the_bookings(add_vm, seed):
    rng = random.Random(seed)
    groups = [run(catalog.create_group, ADMIN, T0, f"G{k}").id for k in range(3)]
    vm_ids = [add_vm(f"vm-{k}", group=groups[k % 4] if k % 4 < 3 else None) for k in range(9)]
    now = T0 + timedelta(days=60, hours=rng.randrange(24), minutes=rng.randrange(60))
    db.session.execute(insert(Booking), _random_bookings(rng, vm_ids, now))
    db.session.commit()
    added = run(rollup.advance, db.session, now)
    assert added > 30
    for later in (now, now + timedelta(minutes=37)):
        for days in (7, 30):
            fast, slow = both_ways(later, days)
            assert fast == slow
            assert sum(row["bookings"] for row in fast["vms"]) > 0


def test_rolled_up_days_stay_right_around_midnight(add_vm):
    add_vm("vm-1")
    add_vm("vm-2")
    midnight = rollup.midnight(at(days=40))
    # Ended long ago: makes the rollup start 35 days back.
    run(bookings.book, BOB, "vm-2", 3, midnight - timedelta(days=35), RULES)
    run(bookings.release, BOB, "vm-2", midnight - timedelta(days=35, hours=-1))
    # Active across midnight, renewed past it, then released after it.
    run(bookings.book, ALICE, "vm-1", 2, midnight - timedelta(hours=1), RULES)
    run(bookings.renew, ALICE, "vm-1", 3, midnight - timedelta(minutes=30), RULES)
    # A reservation across midnight, withdrawn: never counts.
    reserved = run(
        reservations.reserve,
        BOB,
        "vm-2",
        midnight - timedelta(minutes=30),
        2,
        midnight - timedelta(hours=3),
        RULES,
    )
    run(reservations.withdraw, BOB, reserved.id, midnight - timedelta(hours=2))
    # Midnight passed while vm-1 is still held: its day waits.
    run(rollup.advance, db.session, midnight + timedelta(minutes=5))
    assert rollup.rolled_until(db.session) == midnight - timedelta(days=1)
    fast, slow = both_ways(midnight + timedelta(minutes=10), 30)
    assert fast == slow
    run(bookings.release, ALICE, "vm-1", midnight + timedelta(hours=1, minutes=15))
    run(rollup.advance, db.session, midnight + timedelta(hours=2))
    assert rollup.rolled_until(db.session) == midnight
    fast, slow = both_ways(midnight + timedelta(hours=2), 30)
    assert fast == slow
    vm_1 = {row["vm_id"]: row for row in fast["vms"]}["vm-1"]
    assert (vm_1["bookings"], vm_1["hours"]) == (1, 2.25)
    # The next day is rolled up once it is over; the figures do not move.
    run(rollup.advance, db.session, midnight + timedelta(days=1, minutes=1))
    assert rollup.rolled_until(db.session) == midnight + timedelta(days=1)
    fast, slow = both_ways(midnight + timedelta(days=1, minutes=2), 30)
    assert fast == slow and {r["vm_id"]: r for r in fast["vms"]}["vm-1"]["hours"] == 2.25


def test_a_vm_moved_to_another_group_falls_back_then_rolls_up_again(add_vm):
    group = run(catalog.create_group, ADMIN, T0, "Perf")
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    run(bookings.release, ALICE, "vm-1", at(hours=1))
    assert run(rollup.advance, db.session, at(days=3)) == 3
    vm = db.session.get(catalog.Vm, "vm-1")
    vm.group_id = group.id
    db.session.commit()
    vms = {"vm-1": group.id}
    assert usage_fast.held(at(days=2), at(days=3), vms) is None
    run(rollup.advance, db.session, at(days=3, hours=1))
    fast, slow = both_ways(at(days=3, hours=1), 7)
    assert fast == slow and fast["groups"][0]["people"] == 1
    assert db.session.scalar(select(UsageMark.day).limit(1)) is not None
