"""One-click extend: the link in an expiry warning adds an hour, once, while the booking lasts.

The token is an HMAC of the warning's id under the secret key: the link can be written into
every copy of the warning (the API, the socket event, each retried mail) without storing
it; the database keeps only its SHA-256, so a copy of the database opens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from loadzone.booking import bookings, slots
from loadzone.booking.policies import Rules
from loadzone.errors import Conflict, NotFound
from loadzone.extensions import db
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from loadzone.models import Booking, ExtendLink

HOURS = 1
MAX_TOKEN = 100


@dataclass(frozen=True)
class Offer:
    """What an extend link offers: add an hour to this booking."""

    booking_id: int
    vm_id: str
    owner: str
    end: datetime


def token_for(secret: str, notification_id: int) -> str:
    mac = hmac.new(secret.encode(), f"extend:{notification_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(secret: str, notification_id: int, booking_id: int, now: datetime) -> None:
    """Keep the hash of a warning's extend link (in the warning's transaction)."""
    # A notification id seen before (SQLite reuses the highest id after a data import
    # replaced everything) makes the same token: the old link gives way.
    db.session.execute(delete(ExtendLink).where(ExtendLink.notification_id == notification_id))
    db.session.execute(
        insert(ExtendLink).values(
            token_hash=_digest(token_for(secret, notification_id)),
            booking_id=booking_id,
            notification_id=notification_id,
            created_at=now,
        )
    )


def _link(token: str) -> ExtendLink:
    known = isinstance(token, str) and 0 < len(token) <= MAX_TOKEN and token.isascii()
    link = db.session.get(ExtendLink, _digest(token), populate_existing=True) if known else None
    if link is None:
        raise NotFound("This extend link is not one LoadZone gave out.", "link_unknown")
    return link


def _usable(link: ExtendLink, booking: Booking | None, now: datetime) -> Booking:
    if link.used_at is not None:
        raise Conflict("This extend link was already used; it works once.", "link_used")
    if booking is None or booking.state != "active" or booking.end <= now:
        raise Conflict("The booking of this link has ended; book the VM again.", "booking_ended")
    return booking


def offer(token: str, now: datetime) -> Offer:
    """Read-only: what the link would extend, or why it cannot."""
    link = _link(token)
    booking = _usable(link, db.session.get(Booking, link.booking_id), now)
    return Offer(booking.id, booking.vm_id, booking.owner, booking.end)


def use(token: str, now: datetime, rules: Rules) -> Offer:
    """Add an hour through the normal renewal (policies and reservations apply); once."""
    link = _link(token)
    booking = _usable(link, slots.get(link.booking_id), now)
    catalog.get_vm(booking.vm_id, lock=True)
    booking = _usable(link, slots.get(link.booking_id, lock=True), now)
    claimed = db.session.execute(
        update(ExtendLink)
        .where(ExtendLink.token_hash == link.token_hash, ExtendLink.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise Conflict("This extend link was already used; it works once.", "link_used")
    # The link stands for its owner; a refusal rolls the claim back with everything else.
    bookings.renew(Actor(email=booking.owner), booking.vm_id, HOURS, now, rules)
    end = db.session.scalar(select(Booking.end).where(Booking.id == booking.id))
    return Offer(booking.id, booking.vm_id, booking.owner, end)
