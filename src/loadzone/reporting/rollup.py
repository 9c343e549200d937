"""Whole past days of usage, rolled up per VM, so a report adds up days instead of bookings.

A day is rolled up once it is over and before any reserved or active booking begins: from
then on only ended bookings touch it, and an ended booking no longer changes. New bookings
begin now or later, so the rolled days stay true; a data import rebuilds them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select

from loadzone.models import Booking, UsageDay, UsageMark, UsagePerson, UsageVmGroup, Vm

DAY = timedelta(days=1)
OPEN = ("reserved", "active")
NO_GROUP = 0
NO_VM = -1


def midnight(instant: datetime) -> datetime:
    return instant.replace(hour=0, minute=0, second=0, microsecond=0)


def held_until(state: str, end: datetime, ended_at: datetime | None) -> datetime:
    """An ended booking held its VM until it ended; an active one until its end."""
    if state == "ended":
        return min(ended_at or end, end)
    return end


def group_key(group_id: int | None) -> int:
    return NO_GROUP if group_id is None else group_id


def frontier(s, now: datetime) -> datetime:
    """The first day that may not be rolled up yet: today, or the day the earliest reserved
    or active booking begins (it may still change until it ends)."""
    first_open = s.scalar(select(func.min(Booking.start)).where(Booking.state.in_(OPEN)))
    limit = midnight(now)
    return limit if first_open is None else min(limit, midnight(first_open))


def rolled_until(s) -> datetime | None:
    last = s.scalar(select(func.max(UsageMark.day)))
    return None if last is None else last + DAY


def snapshot_holds(s, vms: dict[str, int | None]) -> bool:
    """Whether every VM keeps the group it had when its days were rolled up."""
    for vm_id, group in s.execute(select(UsageVmGroup.vm_id, UsageVmGroup.group_id)):
        now_group = group_key(vms[vm_id]) if vm_id in vms else NO_VM
        if now_group != group:
            return False
    return True


def advance(s, now: datetime) -> int:
    """Roll up the days that are over since the last run; returns how many were added."""
    vms = dict(s.execute(select(Vm.id, Vm.group_id)).all())
    begin = rolled_until(s)
    if begin is not None and not snapshot_holds(s, vms):
        return rebuild(s, now)
    if begin is None:
        first = s.scalar(select(func.min(Booking.start)).where(Booking.state == "ended"))
        if first is None:
            return 0
        begin = midnight(first)
    upto = frontier(s, now)
    if upto <= begin:
        return 0
    _roll(s, begin, upto, vms)
    return (upto - begin) // DAY


def rebuild(s, now: datetime) -> int:
    """Forget every rolled-up day and roll them up again."""
    for table in (UsageDay, UsageMark, UsagePerson, UsageVmGroup):
        s.execute(delete(table))
    return advance(s, now)


def _roll(s, begin: datetime, upto: datetime, vms: dict[str, int | None]) -> None:
    max_id = s.scalar(select(func.max(Booking.id))) or 0
    days: dict[tuple[datetime, str], list] = defaultdict(lambda: [0, 0.0])
    reach: dict[datetime, datetime] = {}
    people: dict[tuple[int, str], datetime] = {}
    snapshot = {vm_id: group_key(group) for vm_id, group in vms.items()}
    rows = s.execute(
        select(Booking.vm_id, Booking.owner, Booking.start, Booking.end, Booking.ended_at)
        .where(Booking.state == "ended", Booking.end > begin, Booking.start < upto)
        .execution_options(yield_per=20000)
    )
    for vm_id, owner, start, end, ended_at in rows:
        held = held_until("ended", end, ended_at)
        if held <= start or held <= begin:
            continue  # held for no time, or not inside these days
        if start >= begin:
            first = midnight(start)
            days[(first, vm_id)][0] += 1
            reach[first] = max(reach.get(first, held), held)
        key = (snapshot.setdefault(vm_id, NO_VM), owner)
        day = midnight(max(start, begin))
        while day < upto and day < held:
            days[(day, vm_id)][1] += (min(held, day + DAY) - max(start, day)).total_seconds()
            last = day
            day += DAY
        if key[0] != NO_VM and people.get(key, begin) <= last:
            people[key] = last
    _store(s, begin, upto, days, reach, people, snapshot, max_id)


def _store(s, begin, upto, days, reach, people, snapshot, max_id) -> None:
    if days:
        s.execute(
            insert(UsageDay),
            [
                {"day": day, "vm_id": vm_id, "bookings": n, "seconds": seconds}
                for (day, vm_id), (n, seconds) in days.items()
            ],
        )
    marks = []
    day = begin
    while day < upto:
        marks.append({"day": day, "reach": reach.get(day), "max_id": max_id})
        day += DAY
    s.execute(insert(UsageMark), marks)
    known = {
        (g, o): last
        for g, o, last in s.execute(
            select(UsagePerson.group_id, UsagePerson.owner, UsagePerson.last_day)
        )
    }
    for (group, owner), last in people.items():
        if (group, owner) in known:
            s.execute(
                UsagePerson.__table__.update()
                .where(UsagePerson.group_id == group, UsagePerson.owner == owner)
                .values(last_day=last)
            )
    fresh = [
        {"group_id": g, "owner": o, "last_day": last}
        for (g, o), last in people.items()
        if (g, o) not in known
    ]
    if fresh:
        s.execute(insert(UsagePerson), fresh)
    stored = set(s.scalars(select(UsageVmGroup.vm_id)))
    added = [{"vm_id": v, "group_id": g} for v, g in snapshot.items() if v not in stored]
    if added:
        s.execute(insert(UsageVmGroup), added)
