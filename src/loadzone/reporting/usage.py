"""Usage over a window, computed by the database from the bookings that overlap it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, func, select

from loadzone.core.timeutil import isoformat
from loadzone.errors import Invalid
from loadzone.extensions import db
from loadzone.models import Booking, Group, QueueRequest, UtcDateTime, Vm
from loadzone.reporting import usage_fast

WINDOWS = (7, 30)


def _smaller(a, b):
    return case((a < b, a), else_=b)


def _larger(a, b):
    return case((a > b, a), else_=b)


def _seconds(lo, hi):
    """hi - lo in seconds, in the engine's own arithmetic."""
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(hi) - func.julianday(lo)) * 86400.0
    return func.extract("epoch", hi - lo)


def _held_per_vm_and_owner(since: datetime, until: datetime, *where, counted=None):
    """(vm_id, owner, bookings, seconds) of the time held inside [since, until); `where`
    narrows the bookings, `counted` says which of them to count (default: all)."""
    lo = bindparam("since", since, type_=UtcDateTime())
    hi = bindparam("until", until, type_=UtcDateTime())
    # An ended booking held its VM until it ended; an active one until its end or now.
    held_until = case(
        (
            Booking.state == "ended",
            _smaller(func.coalesce(Booking.ended_at, Booking.end), Booking.end),
        ),
        else_=Booking.end,
    )
    seconds = _seconds(_larger(Booking.start, lo), _smaller(held_until, hi))
    count = func.count() if counted is None else func.sum(case((counted, 1), else_=0))
    query = (
        select(Booking.vm_id, Booking.owner, count, func.sum(seconds))
        .where(
            Booking.state.in_(("active", "ended")),
            Booking.end > since,
            Booking.start < until,
            held_until > lo,
            held_until > Booking.start,  # held for no time: nothing to count
            *where,
        )
        .group_by(Booking.vm_id, Booking.owner)
    )
    return db.session.execute(query).all()


def _queue(since: datetime, until: datetime) -> dict:
    """Requests that joined the queue in the window: how many, granted, expired, the median
    wait of the granted ones."""
    counts = dict(
        db.session.execute(
            select(QueueRequest.state, func.count())
            .where(QueueRequest.created_at >= since, QueueRequest.created_at < until)
            .group_by(QueueRequest.state)
        ).all()
    )
    waits = sorted(
        (granted - created).total_seconds()
        for created, granted in db.session.execute(
            select(QueueRequest.created_at, QueueRequest.granted_at).where(
                QueueRequest.created_at >= since,
                QueueRequest.created_at < until,
                QueueRequest.state == "granted",
            )
        )
    )
    middle = len(waits) // 2
    median = None
    if waits:
        median = waits[middle] if len(waits) % 2 else (waits[middle - 1] + waits[middle]) / 2
    return {
        "requests": sum(counts.values()),
        "granted": counts.get("granted", 0),
        "expired": counts.get("expired", 0),
        "median_wait_s": None if median is None else round(median, 1),
    }


def direct(since: datetime, until: datetime, vms: dict) -> tuple[dict, dict]:
    """({vm_id: [bookings, hours]}, {group: owners}) straight from the bookings."""
    per_vm = {vm_id: [0, 0.0] for vm_id in vms}
    people: dict[int | None, set[str]] = {}
    add_held(per_vm, people, vms, _held_per_vm_and_owner(since, until))
    return per_vm, people


def add_held(per_vm: dict, people: dict, vms: dict, rows) -> None:
    """Add (vm_id, owner, bookings, seconds) rows to the totals, in hours."""
    for vm_id, owner, count, seconds in rows:
        if vm_id not in per_vm:
            continue  # a VM removed since
        per_vm[vm_id][0] += count or 0
        per_vm[vm_id][1] += float(seconds or 0) / 3600.0
        people.setdefault(vms[vm_id], set()).add(owner)


def held_in(since: datetime, until: datetime, *where, counted=None):
    """The per-(VM, owner) rows of one stretch of the window, for the rolled-up path."""
    return _held_per_vm_and_owner(since, until, *where, counted=counted)


def report(now: datetime, days: int) -> dict:
    """Bookings, hours and occupancy per VM and per group over the last `days` days."""
    if days not in WINDOWS:
        raise Invalid("days must be 7 or 30.", "invalid_input")
    since, until = now - timedelta(days=days), now
    window_hours = days * 24.0
    vms = {vm_id: group for vm_id, group in db.session.execute(select(Vm.id, Vm.group_id))}
    per_vm, people = usage_fast.held(since, until, vms) or direct(since, until, vms)
    groups = []
    names = dict(db.session.execute(select(Group.id, Group.name)).all())
    keys = sorted(names, key=lambda g: names[g].lower())
    if any(group is None for group in vms.values()):
        keys.append(None)
    for key in keys:
        members = [vm_id for vm_id, group in vms.items() if group == key]
        hours = sum(per_vm[vm_id][1] for vm_id in members)
        capacity = window_hours * len(members)
        groups.append(
            {
                "group": key,
                "name": names.get(key),
                "bookings": sum(per_vm[vm_id][0] for vm_id in members),
                "hours": round(hours, 3),
                "occupancy": round(hours / capacity, 4) if capacity else 0.0,
                "people": len(people.get(key, ())),
            }
        )
    return {
        "from": isoformat(since),
        "to": isoformat(until),
        "groups": groups,
        "vms": [
            {
                "vm_id": vm_id,
                "bookings": count,
                "hours": round(hours, 3),
                "occupancy": round(min(1.0, hours / window_hours), 4),
            }
            for vm_id, (count, hours) in sorted(per_vm.items())
        ],
        "queue": _queue(since, until),
    }
