"""POST /api/bookings: one VM or a pool, now or from a start, granted at once or queued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from loadzone.booking import bookings, policies, pools, queue, queue_view, reservations, slots
from loadzone.core.facts import BookingStarted
from loadzone.core.timeutil import isoformat
from loadzone.errors import Conflict
from loadzone.extensions import db
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from loadzone.models import Booking, QueueRequest

# Refusals that waiting can cure: the VM is taken, held, reserved soon or in maintenance.
WAITABLE = {"not_available", "held", "reserved", "in_maintenance", "resetting"}


@dataclass(frozen=True)
class Ask:
    """What a person asks for."""

    target: pools.Target
    hours: int
    count: int = 1
    start: datetime | None = None
    wait: bool = False
    wait_minutes: int = 60
    heartbeat_s: int | None = None


def _check_target(target: pools.Target) -> None:
    if target.vm_id:
        catalog.get_vm(target.vm_id)
    if target.group is not None:
        catalog.get_group(target.group)


def _earliest(target: pools.Target, count: int, now: datetime) -> str:
    times = queue_view.free_times(target, now)
    if len(times) < count:
        return f"{target.describe()} has fewer than {count} usable VMs"
    return f"the earliest fit starts at {isoformat(times[count - 1])} as bookings stand"


def _claim_now(actor: Actor, ask: Ask, now: datetime, rules) -> list[Booking]:
    """Take `count` VMs of a pool now, free longest first, all or nothing."""
    queue.serialize()
    end = now + timedelta(hours=ask.hours)
    free = pools.fitting(ask.target, now, end, now=now, lock=True)
    if len(free) < ask.count:
        raise Conflict(
            f"{len(free)} of the {ask.count} VMs asked for fit now in {ask.target.describe()}; "
            f"{_earliest(ask.target, ask.count, now)}.",
            "not_available",
        )
    chosen = free[: ask.count]
    for vm_id in chosen:
        policies.check_length(vm_id, now, end)
    policies.lock_person(actor.email)
    policies.check_active_limit(actor.email, rules, adding=ask.count)
    policies.check_week(actor.email, now, end, now, rules, copies=ask.count)
    made = []
    for vm_id in chosen:
        booking = slots.add(vm_id, actor.email, now, end, "active", now, rules)
        if ask.heartbeat_s:
            booking.heartbeat_s = ask.heartbeat_s
            booking.idle_at = now + timedelta(seconds=ask.heartbeat_s)
        slots.audit(booking, "book", actor.email, now, end)
        slots.tell(BookingStarted(slots.view(booking), actor.email, now))
        made.append(booking)
    return made


def _reserve_pool(actor: Actor, ask: Ask, now: datetime, rules) -> list[Booking]:
    policies.check_start(ask.start, now, rules)
    end = ask.start + timedelta(hours=ask.hours)
    free = pools.fitting(ask.target, ask.start, end, now=now)
    if len(free) < ask.count:
        raise Conflict(
            f"{len(free)} of the {ask.count} VMs asked for are free over that time in "
            f"{ask.target.describe()}.",
            "not_available",
        )
    return [
        reservations.reserve(actor, vm_id, ask.start, ask.hours, now, rules)
        for vm_id in free[: ask.count]
    ]


def _grant_now(actor: Actor, ask: Ask, now: datetime, rules) -> list[Booking]:
    if ask.target.vm_id:
        vm_id = ask.target.vm_id
        return [
            bookings.book_now(actor, vm_id, ask.hours, now, rules, "not_available", ask.heartbeat_s)
        ]
    return _claim_now(actor, ask, now, rules)


def request(
    actor: Actor, ask: Ask, now: datetime, rules
) -> tuple[list[Booking], QueueRequest | None]:
    """Grant now, reserve from `start`, or (with `wait`) join the queue."""
    policies.check_hours(ask.hours, rules.max_hours)
    _check_target(ask.target)
    catalog.ensure_user(actor.email, now)
    if ask.start is not None:
        if ask.target.vm_id:
            booking = reservations.reserve(
                actor, ask.target.vm_id, ask.start, ask.hours, now, rules
            )
            return [booking], None
        return _reserve_pool(actor, ask, now, rules), None
    if not ask.wait:
        return _grant_now(actor, ask, now, rules), None
    try:
        # A savepoint: a refusal the database raised must not spoil joining the queue.
        with db.session.begin_nested():
            return _grant_now(actor, ask, now, rules), None
    except Conflict as refusal:
        if refusal.code not in WAITABLE:
            raise
    waiting = queue.join(
        actor, ask.target, ask.count, ask.hours, now, rules, ask.wait_minutes, ask.heartbeat_s
    )
    return [], waiting
