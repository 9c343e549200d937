"""The audit history: one append-only record per book, renew and release."""

from __future__ import annotations

from sqlalchemy import func, select

from loadzone.booking import bookings
from loadzone.extensions import db
from loadzone.models import HistoryEntry
from loadzone.reporting import history
from tests.unit import due
from tests.unit.conftest import ADMIN, ALICE, BOB, RULES, T0, at, records, run


def test_a_booking_life_is_recorded_with_who_actor_reason_start_and_end(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    run(bookings.renew, ALICE, "vm-1", 1, at(minutes=10), RULES)
    run(bookings.renew, ADMIN, "vm-1", 1, at(minutes=20), RULES)
    run(bookings.release, ALICE, "vm-1", at(minutes=30))
    got = [
        (r["action"], r["reason"], r["user"], r["actor"], r["start"], r["end"]) for r in records()
    ]
    alice, admin = "alice@example.com", "admin@example.com"
    assert got == [
        ("book", None, alice, alice, T0.isoformat(), at(hours=2).isoformat()),
        ("renew", None, alice, alice, at(minutes=10).isoformat(), at(hours=3).isoformat()),
        ("renew", None, alice, admin, at(minutes=20).isoformat(), at(hours=4).isoformat()),
        ("release", "manual", alice, alice, at(minutes=30).isoformat(), None),
    ]
    assert all(r["at"] == r["start"] for r in records())
    assert all(r["vm_id"] == "vm-1" for r in records())


def test_release_reasons(add_vm):
    for vm_id in ("vm-m", "vm-a", "vm-e"):
        add_vm(vm_id)
        run(bookings.book, BOB, vm_id, 1, T0, RULES)
    run(bookings.release, BOB, "vm-m", at(minutes=1))
    run(bookings.release, ADMIN, "vm-a", at(minutes=2))
    run(due.release_due, "vm-e", at(hours=1))
    reasons = {r["vm_id"]: (r["reason"], r["actor"]) for r in records(action="release")}
    assert reasons == {
        "vm-m": ("manual", "bob@example.com"),
        "vm-a": ("admin", "admin@example.com"),
        "vm-e": ("expired", None),
    }
    assert {r["user"] for r in records(action="release")} == {"bob@example.com"}


def test_admin_actions_belong_to_the_owners_history(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    run(bookings.override_expiry, ADMIN, "vm-1", at(hours=5), T0, RULES)
    run(bookings.release, ADMIN, "vm-1", at(minutes=5))
    assert [r["action"] for r in records(user="alice@example.com")] == ["book", "renew", "release"]
    assert records(user="admin@example.com") == []
    # The user filter ignores case, as e-mails are stored lower-cased.
    assert len(records(user="ALICE@Example.com")) == 3


def test_history_survives_everything_and_is_never_rewritten(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    first = records()[0]
    run(bookings.release, ALICE, "vm-1", at(minutes=1))
    run(bookings.book, BOB, "vm-1", 1, at(minutes=2), RULES)
    run(bookings.delete_vm, ADMIN, "vm-1", at(minutes=3), force=True)
    assert records()[0] == first
    assert db.session.scalar(select(func.count()).select_from(HistoryEntry)) == 4


def test_filters_and_pages(add_vm):
    add_vm("vm-1")
    add_vm("vm-2")
    for minute in range(0, 6):
        vm_id = "vm-1" if minute % 2 == 0 else "vm-2"
        run(bookings.book, ALICE, vm_id, 1, at(minutes=minute * 10), RULES)
        run(bookings.release, ALICE, vm_id, at(minutes=minute * 10 + 1))
    assert len(records(vm_id="vm-1")) == 6
    assert len(records(action="book")) == 6
    since = records(since=at(minutes=20), until=at(minutes=40))
    assert [r["start"] for r in since] == [
        at(minutes=20).isoformat(),
        at(minutes=21).isoformat(),
        at(minutes=30).isoformat(),
        at(minutes=31).isoformat(),
    ]
    # Pages of 5, newest first, chain through all 12 exactly once.
    seen, cursor = [], None
    while True:
        items, cursor = history.page(5, cursor)
        seen += [item["id"] for item in items]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == 12
