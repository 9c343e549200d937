"""Booking policies: lengths, the reservation horizon, weekly hours and active bookings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select

from loadzone.core import prebuilt
from loadzone.errors import Conflict, Invalid
from loadzone.extensions import db
from loadzone.inventory import catalog
from loadzone.models import Booking, User

WEEK = timedelta(days=7)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Rules:
    """The configurable limits of booking."""

    max_hours: int = 24
    max_active_bookings: int = 0
    warning_minutes: int = 60
    reserve_days: int = 30
    max_hours_per_week: int = 0
    max_waiting: int = 5

    @property
    def lead(self) -> timedelta:
        return timedelta(minutes=self.warning_minutes)


def hours_text(span: timedelta) -> str:
    """A duration in hours for messages: whole when it is, else one decimal."""
    hours = span / HOUR
    return f"{hours:.0f}" if hours == int(hours) else f"{hours:.1f}"


def check_hours(hours: int, limit: int) -> None:
    """Hours are a whole number from 1 to `limit`."""
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= limit:
        raise Invalid(f"hours must be a whole number from 1 to {limit}.", "invalid_hours")


_PERSON = select(User.email).where(User.email == bindparam("email")).with_for_update()


def group_limit(vm_id: str) -> tuple[int | None, str | None]:
    """The `max_hours` of the VM's group and the group's name, when it sets one."""
    row = catalog.group_of(vm_id)
    return (row.max_hours, row.name) if row and row.max_hours else (None, None)


def check_length(vm_id: str, start: datetime, end: datetime) -> None:
    """A booking of a VM whose group sets `max_hours` lasts at most that long."""
    limit, name = group_limit(vm_id)
    if limit and end - start > timedelta(hours=limit):
        raise Conflict(
            f"Bookings of group {name} last at most {limit} h; this one would last "
            f"{hours_text(end - start)} h.",
            "quota_exceeded",
        )


def check_start(start: datetime, now: datetime, rules: Rules) -> None:
    """A reservation starts now or later, and at most `reserve_days` ahead."""
    if start < now:
        raise Invalid("start lies in the past.", "invalid_start")
    if start > now + timedelta(days=rules.reserve_days):
        raise Invalid(
            f"A reservation may start at most {rules.reserve_days} days ahead.", "invalid_start"
        )


def lock_person(email: str) -> None:
    """Serialise one person's bookings so two parallel ones cannot both pass a quota."""
    prebuilt.run(_PERSON, {"email": email})


def check_active_limit(email: str, rules: Rules, adding: int = 1) -> None:
    """At most `max_active_bookings` active bookings per person."""
    if not rules.max_active_bookings:
        return
    active = db.session.scalar(
        select(func.count()).where(Booking.owner == email, Booking.state == "active")
    )
    if active + adding > rules.max_active_bookings:
        raise Conflict(
            f"You already hold {active} active bookings, the most allowed "
            f"({rules.max_active_bookings}); none is left.",
            "quota_exceeded",
        )


def _held(booking: Booking, now: datetime) -> tuple[datetime, datetime] | None:
    """The time a booking counts against the weekly quota."""
    if booking.state == "cancelled":
        return None
    end = booking.end
    if booking.state == "ended" and booking.ended_at is not None:
        end = min(end, booking.ended_at)
    return (booking.start, end) if end > booking.start else None


def _overlap(a: tuple[datetime, datetime], start: datetime, end: datetime) -> timedelta:
    return max(timedelta(0), min(a[1], end) - max(a[0], start))


def check_week(
    email: str,
    start: datetime,
    end: datetime,
    now: datetime,
    rules: Rules,
    ignore: int | None = None,
    copies: int = 1,
) -> None:
    """Within any 7 days a person holds or has reserved at most `max_hours_per_week` hours.

    The busiest 7-day window around the new span starts at a booking's start or ends at a
    booking's end, so only those windows are tried.
    """
    if not rules.max_hours_per_week:
        return
    query = select(Booking).where(
        Booking.owner == email,
        Booking.start < end + WEEK,
        Booking.end > start - WEEK,
        Booking.state != "cancelled",
    )
    if ignore is not None:
        query = query.where(Booking.id != ignore)
    spans = [s for s in (_held(b, now) for b in db.session.scalars(query)) if s]
    new = (start, end)
    edges = {s[0] for s in spans + [new]} | {s[1] - WEEK for s in spans + [new]}
    windows = [w for w in edges if w < end and w + WEEK > start]
    limit = timedelta(hours=rules.max_hours_per_week)
    busiest = max(sum((_overlap(s, w, w + WEEK) for s in spans), timedelta(0)) for w in windows)
    wanted = max(_overlap(new, w, w + WEEK) for w in windows) * copies
    worst = max(
        sum((_overlap(s, w, w + WEEK) for s in [*spans, *[new] * copies]), timedelta(0))
        for w in windows
    )
    if worst > limit:
        left = max(timedelta(0), limit - busiest)
        raise Conflict(
            f"At most {rules.max_hours_per_week} h may be held or reserved within any 7 days; "
            f"{hours_text(busiest)} h are taken around this time, so {hours_text(left)} h are "
            f"left and {hours_text(wanted)} h were asked.",
            "quota_exceeded",
        )
