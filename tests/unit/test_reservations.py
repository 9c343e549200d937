"""Bookings as records: reservations, their start, moves, cancellation and the no-overlap rule."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from loadzone.booking import bookings, expiry, reservations
from loadzone.errors import Conflict, Invalid, NotAllowed, NotFound
from loadzone.extensions import db
from loadzone.inventory import catalog
from loadzone.models import Booking, Notification
from tests.unit.conftest import ADMIN, ALICE, BOB, RULES, T0, at, records, run, vm_row


def reserve(actor, vm_id, start, hours, now=T0, rules=RULES) -> Booking:
    return run(reservations.reserve, actor, vm_id, start, hours, now, rules)


def state_of(booking_id: int) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking_id)


def notes(kind: str) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(Notification.type == kind).order_by(Notification.id)
    return list(db.session.scalars(query))


def test_a_reservation_holds_future_time_and_leaves_the_vm_free(add_vm):
    add_vm("vm-1")
    booking = reserve(ALICE, "vm-1", at(hours=3), 2)
    row = state_of(booking.id)
    assert (row.state, row.start, row.end, row.owner) == (
        "reserved",
        at(hours=3),
        at(hours=5),
        ALICE.email,
    )
    assert vm_row("vm-1").booked_by is None
    shown = catalog.describe(vm_row("vm-1"))
    assert shown["next_reservation"] == {
        "id": booking.id,
        "start": at(hours=3).isoformat(),
        "owner": ALICE.email,
    }
    [record] = records(vm_id="vm-1")
    assert (record["action"], record["booking_id"], record["start"], record["end"]) == (
        "reserve",
        booking.id,
        at(hours=3).isoformat(),
        at(hours=5).isoformat(),
    )


def test_overlapping_reservations_are_refused_and_adjacent_ones_fit(add_vm):
    add_vm("vm-1")
    reserve(ALICE, "vm-1", at(hours=3), 2)
    for start, hours in ((at(hours=4), 1), (at(hours=2), 2), (at(hours=2), 4), (at(hours=3), 1)):
        with pytest.raises(Conflict) as caught:
            reserve(BOB, "vm-1", start, hours)
        assert caught.value.code == "not_available"
        assert "alice@example.com" in caught.value.message
    assert reserve(BOB, "vm-1", at(hours=5), 1).state == "reserved"
    assert reserve(BOB, "vm-1", at(hours=1), 2).state == "reserved"


def test_a_reservation_may_not_overlap_the_current_booking(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 3, T0, RULES)
    with pytest.raises(Conflict) as caught:
        reserve(BOB, "vm-1", at(hours=2), 2)
    assert caught.value.code == "not_available"
    assert reserve(BOB, "vm-1", at(hours=3), 2).state == "reserved"


@pytest.mark.parametrize(
    "start", [at(seconds=-1), at(days=30, seconds=1), at(days=400)], ids=["past", "horizon", "far"]
)
def test_a_start_in_the_past_or_beyond_the_horizon_is_invalid(add_vm, start):
    add_vm("vm-1")
    with pytest.raises(Invalid) as caught:
        reserve(ALICE, "vm-1", start, 1)
    assert caught.value.code == "invalid_start"
    assert db.session.scalar(select(Booking.id)) is None


def test_the_horizon_is_configurable(add_vm):
    add_vm("vm-1")
    short = replace(RULES, reserve_days=2)
    with pytest.raises(Invalid):
        reserve(ALICE, "vm-1", at(days=2, hours=1), 1, rules=short)
    assert reserve(ALICE, "vm-1", at(days=2), 1, rules=short).state == "reserved"


def test_booking_now_stops_at_the_next_reservation(add_vm):
    add_vm("vm-1")
    reserve(BOB, "vm-1", at(hours=3, minutes=30), 1)
    with pytest.raises(Conflict) as caught:
        run(bookings.book, ALICE, "vm-1", 4, T0, RULES)
    assert caught.value.code == "reserved"
    assert "at most 3 h can be booked" in caught.value.message
    assert vm_row("vm-1").booked_by is None
    assert run(bookings.book, ALICE, "vm-1", 3, T0, RULES).expires_at == at(hours=3)


def test_renewal_stops_at_the_next_reservation(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    reserve(BOB, "vm-1", at(hours=5), 1)
    with pytest.raises(Conflict) as caught:
        run(bookings.renew, ALICE, "vm-1", 4, at(minutes=10), RULES)
    assert caught.value.code == "reserved"
    assert "at most 3 h can be added" in caught.value.message
    assert vm_row("vm-1").expires_at == at(hours=2)
    assert run(bookings.renew, ALICE, "vm-1", 3, at(minutes=10), RULES).expires_at == at(hours=5)


def test_an_admin_override_may_not_run_into_a_reservation(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    reserve(BOB, "vm-1", at(hours=5), 1)
    with pytest.raises(Conflict) as caught:
        run(bookings.override_expiry, ADMIN, "vm-1", at(hours=6), T0, RULES)
    assert caught.value.code == "reserved"


def test_a_reservation_starts_once_at_its_start(add_vm):
    add_vm("vm-1")
    booking = reserve(ALICE, "vm-1", at(hours=2), 3)
    assert expiry.starting_ids(at(hours=1, minutes=59)) == []
    assert run(expiry.start_due, booking.id, at(hours=1, minutes=59), RULES) is False
    assert expiry.starting_ids(at(hours=2)) == [booking.id]
    assert run(expiry.start_due, booking.id, at(hours=2), RULES) is True
    assert run(expiry.start_due, booking.id, at(hours=2, seconds=1), RULES) is False
    vm = vm_row("vm-1")
    assert (vm.booked_by, vm.booking_id, vm.expires_at) == (ALICE.email, booking.id, at(hours=5))
    assert [(r["action"], r["actor"], r["booking_id"]) for r in records(vm_id="vm-1")] == [
        ("reserve", ALICE.email, booking.id),
        ("book", None, booking.id),
    ]
    [started] = notes("reservation_started")
    assert started.recipient == ALICE.email
    # Then it expires like any booking.
    assert run(expiry.release_due, booking.id, at(hours=5)) is True
    assert (state_of(booking.id).state, state_of(booking.id).end_reason) == ("ended", "expired")


def test_a_reservation_after_an_expired_booking_ends_that_booking_first(add_vm):
    add_vm("vm-1")
    first = run(bookings.book_now, ALICE, "vm-1", 2, T0, RULES)
    second = reserve(BOB, "vm-1", at(hours=2), 1)
    # The release job has not run yet when the start job comes.
    assert run(expiry.start_due, second.id, at(hours=2, seconds=1), RULES) is True
    assert state_of(first.id).state == "ended"
    assert state_of(first.id).end_reason == "expired"
    assert vm_row("vm-1").booked_by == BOB.email


def test_a_reservation_of_a_vm_in_maintenance_is_cancelled_at_its_start(add_vm):
    add_vm("vm-1")
    booking = reserve(ALICE, "vm-1", at(hours=1), 1)
    run(catalog.edit_vm, ADMIN, "vm-1", {"maintenance": True})
    assert run(expiry.start_due, booking.id, at(hours=1), RULES) is True
    row = state_of(booking.id)
    assert (row.state, row.end_reason) == ("cancelled", "cancelled")
    assert vm_row("vm-1").booked_by is None
    [note] = notes("reservation_cancelled")
    assert note.recipient == ALICE.email and "maintenance" in note.message


def test_the_owner_moves_a_reservation_within_the_rules(add_vm):
    add_vm("vm-1")
    mine = reserve(ALICE, "vm-1", at(hours=2), 2)
    reserve(BOB, "vm-1", at(hours=6), 2)
    moved = run(reservations.move, ALICE, mine.id, T0, RULES, start=at(hours=3))
    assert (moved.start, moved.end) == (at(hours=3), at(hours=5))
    run(reservations.move, ALICE, mine.id, T0, RULES, end=at(hours=6))
    assert state_of(mine.id).end == at(hours=6)
    with pytest.raises(Conflict) as caught:
        run(reservations.move, ALICE, mine.id, T0, RULES, end=at(hours=7))
    assert caught.value.code == "not_available"
    with pytest.raises(Invalid):
        run(reservations.move, ALICE, mine.id, T0, RULES, start=at(hours=4), end=at(hours=4))
    with pytest.raises(NotAllowed):
        run(reservations.move, BOB, mine.id, T0, RULES, start=at(hours=1))
    assert (state_of(mine.id).start, state_of(mine.id).end) == (at(hours=3), at(hours=6))


def test_cancel_a_reservation_then_it_cannot_be_changed(add_vm):
    add_vm("vm-1")
    mine = reserve(ALICE, "vm-1", at(hours=2), 2)
    with pytest.raises(NotAllowed):
        run(reservations.withdraw, BOB, mine.id, T0)
    cancelled = run(reservations.withdraw, ALICE, mine.id, at(minutes=5))
    assert (cancelled.state, cancelled.end_reason, cancelled.ended_at) == (
        "cancelled",
        "cancelled",
        at(minutes=5),
    )
    for attempt in (
        lambda: run(reservations.withdraw, ALICE, mine.id, at(minutes=6)),
        lambda: run(reservations.move, ALICE, mine.id, T0, RULES, start=at(hours=3)),
    ):
        with pytest.raises(Conflict) as caught:
            attempt()
        assert caught.value.code == "booking_ended"
    assert [r["action"] for r in records(vm_id="vm-1")] == ["reserve", "cancel"]
    # The slot is free again.
    assert reserve(BOB, "vm-1", at(hours=2), 2).state == "reserved"


def test_withdrawing_an_active_booking_releases_it(add_vm):
    add_vm("vm-1")
    booking = run(bookings.book_now, ALICE, "vm-1", 2, T0, RULES)
    ended = run(reservations.withdraw, ADMIN, booking.id, at(minutes=1))
    assert (ended.state, ended.end_reason) == ("ended", "admin")
    assert vm_row("vm-1").booked_by is None


def test_changing_an_active_bookings_end(add_vm):
    add_vm("vm-1")
    booking = run(bookings.book_now, ALICE, "vm-1", 2, T0, RULES)
    run(reservations.move, ALICE, booking.id, T0, RULES, end=at(hours=1))
    assert vm_row("vm-1").expires_at == at(hours=1)
    with pytest.raises(Invalid):
        run(reservations.move, ALICE, booking.id, T0, RULES, end=at(hours=25))
    with pytest.raises(Invalid):
        run(reservations.move, ALICE, booking.id, T0, RULES, start=at(hours=1), end=at(hours=2))
    # An admin may set any future end.
    run(reservations.move, ADMIN, booking.id, T0, RULES, end=at(hours=40))
    assert vm_row("vm-1").expires_at == at(hours=40)


def test_unknown_bookings_are_not_found(ctx):
    for booking_id in (1, 2**63, 0):
        with pytest.raises(NotFound):
            reservations.get_booking(booking_id)


def test_deleting_a_vm_cancels_its_reservations_and_tells_their_owners(add_vm):
    add_vm("vm-1")
    booking = reserve(ALICE, "vm-1", at(hours=2), 2)
    run(bookings.delete_vm, ADMIN, "vm-1", T0)
    assert state_of(booking.id).state == "cancelled"
    [note] = notes("reservation_cancelled")
    assert note.recipient == ALICE.email


def test_listing_bookings_by_window_state_and_vm(add_vm):
    add_vm("vm-1")
    add_vm("vm-2")
    now_b = run(bookings.book_now, ALICE, "vm-1", 2, T0, RULES)
    later = reserve(BOB, "vm-2", at(hours=10), 2)
    other = reserve(ALICE, "vm-1", at(days=2), 1)
    run(reservations.withdraw, ALICE, other.id, T0)

    def ids(**filters):
        rows, _ = reservations.page(50, **filters)
        return [b.id for b in rows]

    assert ids() == [now_b.id, later.id, other.id]
    assert ids(states=["reserved", "active"]) == [now_b.id, later.id]
    assert ids(since=at(hours=3), until=at(hours=11)) == [later.id]
    assert ids(since=at(hours=1), until=at(hours=11), vm_id="vm-1") == [now_b.id]
    assert ids(owner="ALICE@example.com") == [now_b.id, other.id]
    first, cursor = reservations.page(2)
    rest, end = reservations.page(2, cursor)
    assert [b.id for b in first + rest] == [now_b.id, later.id, other.id] and end is None
