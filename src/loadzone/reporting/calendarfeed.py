"""A person's calendar feed: a secret address serving their reserved and active bookings.

The secret is the credential (calendar programs cannot sign in), so only its hash is kept
and each new address replaces the previous one.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from icalendar import Calendar, Event
from sqlalchemy import delete, select

from loadzone.extensions import db
from loadzone.identity.accounts import digest
from loadzone.models import HOLDING, Booking, CalendarFeed, Group, Vm

PRODUCT = "-//LoadZone//Bookings//EN"
# Secrets are token_urlsafe(32): anything longer is not one of ours.
MAX_SECRET = 64


def renew(email: str, now: datetime) -> str:
    """A new secret for the person's feed; the old address stops working."""
    secret = secrets.token_urlsafe(32)
    db.session.execute(delete(CalendarFeed).where(CalendarFeed.user == email))
    db.session.add(CalendarFeed(user=email, token_hash=digest(secret), created_at=now))
    return secret


def owner_of(secret: str) -> str | None:
    """Whose feed this secret opens, or None."""
    if not secret or len(secret) > MAX_SECRET:
        return None
    return db.session.scalar(
        select(CalendarFeed.user).where(CalendarFeed.token_hash == digest(secret))
    )


def _event(booking: Booking, group: str | None, now: datetime) -> Event:
    event = Event()
    event.add("uid", f"booking-{booking.id}@loadzone")
    event.add("dtstamp", now)
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("summary", f"VM {booking.vm_id}")
    event.add("location", booking.vm_id)
    event.add("status", "CONFIRMED")
    if group:
        event.add("categories", [group])
        event.add("description", f"VM {booking.vm_id}, group {group} ({booking.state})")
    else:
        event.add("description", f"VM {booking.vm_id} ({booking.state})")
    return event


def render(email: str, now: datetime) -> bytes:
    """The person's reserved and active bookings as an iCalendar document."""
    rows = db.session.execute(
        select(Booking, Group.name)
        .outerjoin(Vm, Vm.id == Booking.vm_id)
        .outerjoin(Group, Group.id == Vm.group_id)
        .where(Booking.owner == email, Booking.state.in_(HOLDING))
        .order_by(Booking.start, Booking.id)
    )
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"LoadZone: {email}")
    for booking, group in rows:
        calendar.add_component(_event(booking, group, now))
    return calendar.to_ical()
