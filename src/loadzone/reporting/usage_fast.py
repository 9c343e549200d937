"""Usage from the rolled-up days plus the bookings of the partial days at either edge.

The window [since, until) splits into the part of since's day after since, the whole
rolled-up days, and the rest up to until. A booking counts once: on the day it began, or
at the left edge when it began before the first whole day.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from loadzone.extensions import db
from loadzone.models import Booking, UsageDay, UsageMark, UsagePerson
from loadzone.reporting import rollup
from loadzone.reporting.rollup import DAY, midnight

HELD = ("active", "ended")


def held(since: datetime, until: datetime, vms: dict) -> tuple[dict, dict] | None:
    """({vm_id: [bookings, hours]}, {group: owners}) or None when the days cannot serve."""
    from loadzone.reporting import usage  # usage chooses this path: import it late

    s = db.session
    first_whole = midnight(since) if since == midnight(since) else midnight(since) + DAY
    edge = rollup.rolled_until(s)
    if edge is None or not first_whole < edge <= midnight(until):
        return None
    if not rollup.snapshot_holds(s, vms) or _inserted_since(s, edge):
        return None
    per_vm = {vm_id: [0, 0.0] for vm_id in vms}
    people: dict[int | None, set[str]] = {}
    days = (
        select(UsageDay.vm_id, func.sum(UsageDay.bookings), func.sum(UsageDay.seconds))
        .where(UsageDay.day >= first_whole, UsageDay.day < edge)
        .group_by(UsageDay.vm_id)
    )
    for vm_id, count, seconds in s.execute(days):
        if vm_id in per_vm:
            per_vm[vm_id][0] += count
            per_vm[vm_id][1] += seconds / 3600.0
    owners = select(UsagePerson.group_id, UsagePerson.owner).where(
        UsagePerson.last_day >= first_whole
    )
    for group, owner in s.execute(owners):
        people.setdefault(None if group == rollup.NO_GROUP else group, set()).add(owner)
    # Left: ended bookings begun before the first whole day and held after since; the
    # days' reach says how far back they may begin.
    lookback = s.scalar(select(func.min(UsageMark.day)).where(UsageMark.reach > since))
    if lookback is not None and lookback < first_whole:
        rows = usage.held_in(
            since, first_whole, Booking.state == "ended", Booking.start >= lookback
        )
        usage.add_held(per_vm, people, vms, rows)
    # Right: from the end of the rolled-up days to until; counted if begun there.
    rows = usage.held_in(edge, until, Booking.end > edge, counted=Booking.start >= edge)
    usage.add_held(per_vm, people, vms, rows)
    return per_vm, people


def _inserted_since(s, edge: datetime) -> bool:
    """A booking added after the roll-up inside the rolled days (only data loaded behind
    the app's back does that) makes the days stale."""
    max_id = s.scalar(select(func.max(UsageMark.max_id)))
    if s.scalar(select(func.max(Booking.id))) == max_id:
        return False
    found = s.scalar(
        select(Booking.id)
        .where(Booking.id > max_id, Booking.start < edge, Booking.state.in_(HELD))
        .limit(1)
    )
    return found is not None
