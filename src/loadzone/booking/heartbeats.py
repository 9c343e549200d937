"""Heartbeats: a booking made with `heartbeat_s` is released as idle when they stop."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from loadzone.booking import bookings, reservations, slots
from loadzone.core.facts import HeartbeatReceived
from loadzone.errors import Conflict, NotAllowed
from loadzone.extensions import db
from loadzone.identity.permissions import Actor
from loadzone.models import Booking


def heartbeat(actor: Actor, booking_id: int, now: datetime) -> Booking:
    """The owner says the booking is still in use: its idle release moves on."""
    booking = reservations.get_booking(booking_id)
    if actor.email != booking.owner:
        raise NotAllowed(f"Booking {booking_id} belongs to someone else.", "not_owner")
    if booking.state != "active":
        raise Conflict(f"Booking {booking_id} is {booking.state}.", "not_active")
    if not booking.heartbeat_s:
        raise Conflict(f"Booking {booking_id} was not made with heartbeat_s.", "no_heartbeat")
    idle_at = now + timedelta(seconds=booking.heartbeat_s)
    changed = db.session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.state == "active")
        .values(last_heartbeat=now, idle_at=idle_at)
    ).rowcount
    if changed != 1:
        raise Conflict(f"Booking {booking_id} ended meanwhile.", "not_active")
    slots.tell(HeartbeatReceived(slots.view(booking), actor.email, now, idle_at=idle_at))
    return booking


def release_idle(booking_id: int, now: datetime) -> bool:
    """Release one booking whose heartbeats stopped; False when a heartbeat came in time."""
    booking = slots.get(booking_id)
    if booking is None or booking.state != "active" or booking.idle_at is None:
        return False
    if booking.idle_at > now:
        return False
    done = db.session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.state == "active", Booking.idle_at <= now)
        .values(state="ended", ended_at=now, end_reason="idle")
    ).rowcount
    if done != 1:
        return False
    return bookings.record_end(booking, None, now, "idle")


def idle_ids(now: datetime) -> list[int]:
    """Active bookings whose heartbeats stopped."""
    query = select(Booking.id).where(Booking.state == "active", Booking.idle_at <= now)
    return list(db.session.scalars(query.order_by(Booking.idle_at)))
