"""Work that falls due with time: reservations start, bookings expire, owners are warned.

Each use case re-reads its booking and claims the work with a conditional update, so a stale
job, the safety sweep or a second instance can never do it twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from loadzone.booking import bookings, slots
from loadzone.booking.policies import Rules
from loadzone.core.facts import BookingStarted, ExpiryWarned
from loadzone.extensions import db
from loadzone.hooks import runs as hook_runs
from loadzone.models import Booking, Vm


def start_due(booking_id: int, now: datetime, rules: Rules) -> bool:
    """Make a reservation whose start has come active (cancelled if its VM is in maintenance)."""
    booking = slots.get(booking_id)
    if booking is None or booking.state != "reserved" or booking.start > now:
        return False
    vm = db.session.scalar(select(Vm).where(Vm.id == booking.vm_id).with_for_update())
    if vm is None or vm.maintenance:
        why = "vm_deleted" if vm is None else "maintenance"
        return bookings.cancel(booking, None, now, why)
    if vm.resetting:
        return False  # it starts when the reset ends (hooks/outcome.py)
    previous = slots.active_booking(booking.vm_id)
    # No overlap means an earlier booking still shown active has reached its end: end it first.
    if previous is not None and not bookings.end(previous, None, now, "expired", due=True):
        return False
    if previous is not None and hook_runs.is_resetting(booking.vm_id):
        return False
    claimed = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.state == "reserved")
        .values(state="active", warned=slots.warned_for(booking.start, booking.end, now, rules))
    ).rowcount
    if claimed != 1:
        return False
    slots.audit(booking, "book", None, now, booking.end)
    slots.tell(BookingStarted(slots.view(booking), None, now, how="reservation"))
    return True


def release_due(booking_id: int, now: datetime) -> bool:
    """End one booking that reached its end; False when there was nothing to do."""
    booking = slots.get(booking_id)
    if booking is None or booking.state != "active" or booking.end > now:
        return False
    return bookings.end(booking, None, now, "expired", due=True)


def warning_due(booking_id: int, now: datetime, rules: Rules) -> bool:
    """Read-only: does this booking wait for its warning now? (Spares a write lock.)"""
    booking = db.session.get(Booking, booking_id)
    return bool(
        booking
        and booking.state == "active"
        and not booking.warned
        and now < booking.end <= now + rules.lead
    )


def warn_due(booking_id: int, now: datetime, rules: Rules) -> str | None:
    """Claim and record the expiry warning of one booking; returns the owner warned, if any."""
    booking = slots.get(booking_id)
    if booking is None or booking.state != "active" or booking.warned:
        return None
    # Not yet inside the lead time, or already over: then the release is due, not a warning.
    if not now < booking.end <= now + rules.lead:
        return None
    claimed = db.session.execute(
        update(Booking)
        .where(
            Booking.id == booking.id,
            Booking.state == "active",
            Booking.end == booking.end,
            Booking.warned.is_(False),
        )
        .values(warned=True)
    ).rowcount
    if claimed != 1:
        return None
    minutes = max(1, round((booking.end - now).total_seconds() / 60))
    slots.tell(ExpiryWarned(slots.view(booking), None, now, minutes=minutes))
    return booking.owner


def starting_ids(now: datetime) -> list[int]:
    """Reservations whose start has come."""
    query = select(Booking.id).where(Booking.state == "reserved", Booking.start <= now)
    return list(db.session.scalars(query.order_by(Booking.start)))


def expired_ids(now: datetime) -> list[int]:
    """Active bookings past their end (an index range on (state, end))."""
    query = select(Booking.id).where(Booking.state == "active", Booking.end <= now)
    return list(db.session.scalars(query.order_by(Booking.end)))


def warning_due_ids(now: datetime, rules: Rules) -> list[int]:
    """Active bookings inside the warning lead time that were not warned yet."""
    query = select(Booking.id).where(
        Booking.state == "active",
        Booking.end <= now + rules.lead,
        Booking.end > now,
        Booking.warned.is_(False),
    )
    return list(db.session.scalars(query))
