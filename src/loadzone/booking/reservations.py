"""Bookings as records: reserve ahead, move, cancel or release, read and list."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Row, and_, or_, select, update

from loadzone.booking import bookings, policies, slots
from loadzone.booking.policies import Rules
from loadzone.core.facts import BookingRetimed, ReservationMade
from loadzone.errors import Conflict, Invalid, NotAllowed, NotFound
from loadzone.extensions import db
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from loadzone.models import Booking, Vm

STATES = ("reserved", "active", "ended", "cancelled")
MAX_ID = 2**63 - 1


def get_booking(booking_id: int, *, lock: bool = False) -> Booking:
    booking = slots.get(booking_id, lock=lock) if 0 < booking_id <= MAX_ID else None
    if booking is None:
        raise NotFound(f"There is no booking {booking_id}.", "booking_not_found")
    return booking


def reserve(
    actor: Actor, vm_id: str, start: datetime, hours: int, now: datetime, rules: Rules
) -> Booking:
    """Reserve a VM for `hours` from `start`; of overlapping reservations exactly one wins."""
    policies.check_hours(hours, rules.max_hours)
    policies.check_start(start, now, rules)
    catalog.ensure_user(actor.email, now)
    catalog.get_vm(vm_id, lock=True)
    end = start + timedelta(hours=hours)
    other = slots.clash(vm_id, start, end)
    if other is not None:
        slots.refuse_overlap(vm_id, other)
    policies.check_length(vm_id, start, end)
    policies.lock_person(actor.email)
    policies.check_week(actor.email, start, end, now, rules)
    booking = slots.add(vm_id, actor.email, start, end, "reserved", now, rules)
    slots.audit(booking, "reserve", actor.email, now, end)
    slots.tell(ReservationMade(slots.view(booking), actor.email, now))
    return booking


def _owned(actor: Actor, booking_id: int) -> Booking:
    booking = get_booking(booking_id)
    catalog.get_vm(booking.vm_id, lock=True)
    booking = get_booking(booking_id, lock=True)
    if not actor.can_change_booking(booking.owner):
        raise NotAllowed(f"Booking {booking_id} belongs to someone else.", "not_owner")
    if booking.state not in ("reserved", "active"):
        raise Conflict(f"Booking {booking_id} is {booking.state}.", "booking_ended")
    return booking


def _check_span(start: datetime, end: datetime, rules: Rules) -> None:
    if end <= start:
        raise Invalid("end must lie after start.", "invalid_end")
    if end - start > timedelta(hours=rules.max_hours):
        raise Invalid(f"A booking lasts at most {rules.max_hours} h.", "invalid_end")


def _move_reservation(actor, booking, start, end, now, rules) -> None:
    start = start or booking.start
    end = end or start + (booking.end - booking.start)
    policies.check_start(start, now, rules)
    _check_span(start, end, rules)
    other = slots.clash(booking.vm_id, start, end, ignore=booking.id)
    if other is not None:
        slots.refuse_overlap(booking.vm_id, other)
    if not actor.is_admin:
        policies.check_length(booking.vm_id, start, end)
        policies.lock_person(booking.owner)
        policies.check_week(booking.owner, start, end, now, rules, ignore=booking.id)
    moved = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.state == "reserved")
        .values(start=start, end=end)
    ).rowcount
    if moved != 1:
        raise Conflict(f"Booking {booking.id} changed meanwhile; try again.", "conflict")
    slots.flush_guarded(booking.vm_id)
    slots.audit(booking, "reserve", actor.email, now, end)


def _move_active(actor, booking, start, end, now, rules) -> None:
    if start is not None and start != booking.start:
        raise Invalid("An active booking's start cannot move.", "invalid_start")
    if end is None:
        raise Invalid("end is required to change an active booking.", "invalid_end")
    if end <= now:
        raise Invalid("end must lie in the future; release the booking instead.", "invalid_end")
    if not actor.is_admin and end - now > timedelta(hours=rules.max_hours):
        raise Invalid(
            f"A booking may not end more than {rules.max_hours} h from now.", "renew_too_long"
        )
    bookings.retime(actor, booking, end, now, rules, policy=not actor.is_admin)
    reason = "admin" if actor.email != booking.owner else None
    slots.audit(booking, "renew", actor.email, now, end, reason=reason)


def move(
    actor: Actor,
    booking_id: int,
    now: datetime,
    rules: Rules,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Booking:
    """Move a reservation, or change an active booking's end (owner within policy, admin any)."""
    if start is None and end is None:
        raise Invalid("Give start, end or both.", "invalid_input")
    booking = _owned(actor, booking_id)
    if booking.state == "reserved":
        _move_reservation(actor, booking, start, end, now, rules)
    else:
        _move_active(actor, booking, start, end, now, rules)
    slots.tell(BookingRetimed(slots.view(booking), actor.email, now, how="move"))
    return booking


def withdraw(actor: Actor, booking_id: int, now: datetime) -> Booking:
    """Cancel a reservation, or release an active booking."""
    booking = _owned(actor, booking_id)
    by_owner = actor.email == booking.owner
    if booking.state == "reserved":
        done = bookings.cancel(booking, actor.email, now, "owner" if by_owner else "admin")
    else:
        done = bookings.end(booking, actor.email, now, "manual" if by_owner else "admin")
    if not done:
        raise Conflict(f"Booking {booking_id} changed meanwhile; try again.", "conflict")
    return booking


# The columns a booking is shown with (serialize.booking_dict).
SHOWN = (
    Booking.id,
    Booking.vm_id,
    Booking.owner,
    Booking.start,
    Booking.end,
    Booking.state,
    Booking.ended_at,
    Booking.end_reason,
    Booking.request_id,
    Booking.heartbeat_s,
    Booking.last_heartbeat,
    Booking.created_at,
)


def _after(anchor: Booking):
    """Bookings after `anchor` in (start, id) order; the leading `start >=` lets an index on
    start seek to the anchor instead of scanning from the first booking."""
    return and_(
        Booking.start >= anchor.start,
        or_(Booking.start > anchor.start, Booking.id > anchor.id),
    )


def page(
    limit: int,
    after_id: int | None = None,
    *,
    vm_id: str | None = None,
    owner: str | None = None,
    group: int | None = None,
    states: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[Row], int | None]:
    """Bookings ordered by start; `since`/`until` keep those overlapping [since, until).

    Plain rows with the model's attribute names rather than ORM objects: a calendar window
    reads thousands of them, and building objects took a third of its time."""
    query = select(*SHOWN)
    if vm_id:
        query = query.where(Booking.vm_id == vm_id)
    if owner:
        query = query.where(Booking.owner == owner.lower())
    if group is not None:
        query = query.where(Booking.vm_id.in_(select(Vm.id).where(Vm.group_id == group)))
    if states:
        query = query.where(Booking.state.in_(states))
    if since is not None:
        query = query.where(Booking.end > since)
    if until is not None:
        query = query.where(Booking.start < until)
    if after_id is not None:
        anchor = db.session.get(Booking, after_id)
        if anchor is None:
            return [], None
        query = query.where(_after(anchor))
    rows = list(db.session.execute(query.order_by(Booking.start, Booking.id).limit(limit + 1)))
    next_id = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_id
