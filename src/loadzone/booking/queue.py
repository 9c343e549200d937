"""The queue: requests that wait their turn, strictly first come, first served.

`settle` hands free VMs to the oldest waiting requests that can use them. It runs inside the
transaction that frees a VM (or adds one, or makes a request join or leave), so nobody can
slip in between. While the oldest request that can use some VMs cannot be granted in full,
those VMs are held for it. On PostgreSQL one advisory lock orders all settling, and VM rows
another transaction is changing are skipped: that transaction settles again after it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, text, update

from loadzone.booking import policies, pools, slots
from loadzone.core import facts, prebuilt
from loadzone.core.facts import (
    BookingStarted,
    ExpiryWarned,
    GroupCreated,
    HeartbeatReceived,
    QueueChanged,
    VmChanged,
)
from loadzone.core.timeutil import utcnow
from loadzone.errors import Conflict, NotAllowed, NotFound
from loadzone.extensions import db
from loadzone.identity.permissions import Actor
from loadzone.models import QueueRequest, Vm

_QUEUE_LOCK = 7402302
MAX_ID = 2**63 - 1


def serialize() -> None:
    """Order settling transactions (PostgreSQL; SQLite writers are ordered already)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _QUEUE_LOCK})


def target_of(request: QueueRequest) -> pools.Target:
    return pools.Target(request.vm_id, request.group_id, json.loads(request.labels or "{}"))


def get_request(request_id: int) -> QueueRequest:
    found = db.session.get(QueueRequest, request_id) if 0 < request_id <= MAX_ID else None
    if found is None:
        raise NotFound(f"There is no queue request {request_id}.", "request_not_found")
    return found


def join(
    actor: Actor,
    target: pools.Target,
    count: int,
    hours: int,
    now: datetime,
    rules: policies.Rules,
    wait_minutes: int = 60,
    heartbeat_s: int | None = None,
) -> QueueRequest:
    """Queue a request that cannot be granted now; it is settled at once (holds included)."""
    serialize()
    policies.lock_person(actor.email)
    waiting = db.session.scalar(
        select(func.count()).where(
            QueueRequest.owner == actor.email, QueueRequest.state == "waiting"
        )
    )
    if waiting >= rules.max_waiting:
        raise Conflict(
            f"You already wait in the queue {waiting} times, the most allowed "
            f"({rules.max_waiting}); none is left.",
            "quota_exceeded",
        )
    request = QueueRequest(
        owner=actor.email,
        vm_id=target.vm_id,
        group_id=target.group,
        labels=json.dumps(target.labels, sort_keys=True),
        count=count,
        hours=hours,
        heartbeat_s=heartbeat_s,
        created_at=now,
        wait_until=now + timedelta(minutes=wait_minutes),
        state="waiting",
    )
    db.session.add(request)
    db.session.flush()
    slots.tell(QueueChanged(request.id, now, "joined"))
    return request


def _policies_allow(request: QueueRequest, vm_ids: list[str], now, rules) -> bool:
    end = now + timedelta(hours=request.hours)
    try:
        for vm_id in vm_ids:
            policies.check_length(vm_id, now, end)
        policies.check_active_limit(request.owner, rules, adding=len(vm_ids))
        policies.check_week(request.owner, now, end, now, rules, copies=len(vm_ids))
    except Conflict:
        return False
    return True


def _grant(request: QueueRequest, vm_ids: list[str], now, rules) -> None:
    end = now + timedelta(hours=request.hours)
    for vm_id in vm_ids:
        booking = slots.add(vm_id, request.owner, now, end, "active", now, rules)
        booking.request_id, booking.heartbeat_s = request.id, request.heartbeat_s
        if request.heartbeat_s:
            booking.idle_at = now + timedelta(seconds=request.heartbeat_s)
        slots.audit(booking, "book", None, now, end)
        slots.tell(BookingStarted(slots.view(booking), None, now, how="queue"))
    request.state, request.granted_at = "granted", now
    slots.tell(QueueChanged(request.id, now, "granted"))


def _expire(request: QueueRequest, now) -> None:
    request.state, request.ended_at = "expired", now
    slots.tell(QueueChanged(request.id, now, "expired"))


# Built once (core/prebuilt.py): every release settles the queue.
_HELD = select(Vm.id, Vm.held_for).where(Vm.held_for.is_not(None))
_HELD_SKIP_LOCKED = _HELD.with_for_update(skip_locked=True)
_WAITING = (
    select(QueueRequest)
    .where(QueueRequest.state == "waiting")
    .order_by(QueueRequest.created_at, QueueRequest.id)
)


def settle(now: datetime, rules: policies.Rules) -> None:
    """Grant or hold free VMs for waiting requests, oldest first."""
    serialize()
    # Never wait on a VM another transaction is changing (PostgreSQL): it settles again after.
    held_now = _HELD_SKIP_LOCKED if db.engine.dialect.name == "postgresql" else _HELD
    old = dict(prebuilt.run(held_now).all())
    if old:
        db.session.execute(update(Vm).where(Vm.id.in_(list(old))).values(held_for=None))
    waiting = db.session.scalars(_WAITING).all()
    taken: set[str] = set()
    held: dict[str, int] = {}
    for request in waiting:
        if request.wait_until <= now:
            _expire(request, now)
            continue
        end = now + timedelta(hours=request.hours)
        free = pools.fitting(target_of(request), now, end, now=now, lock=True)
        free = [vm_id for vm_id in free if vm_id not in taken]
        chosen = free[: request.count]
        if len(free) >= request.count and _policies_allow(request, chosen, now, rules):
            _grant(request, chosen, now, rules)
            taken.update(chosen)
            continue
        for vm_id in free:
            held[vm_id] = request.id
        taken.update(free)
    for request_id in set(held.values()):
        ids = [vm_id for vm_id, holder in held.items() if holder == request_id]
        db.session.execute(update(Vm).where(Vm.id.in_(ids)).values(held_for=request_id))
    for vm_id in sorted(set(old) | set(held)):
        if old.get(vm_id) != held.get(vm_id):
            slots.tell(VmChanged(vm_id))


def leave(actor: Actor, request_id: int, now: datetime) -> QueueRequest:
    """Leave the queue (owner or admin); only a waiting request can."""
    serialize()
    request = get_request(request_id)
    if not actor.can_change_booking(request.owner):
        raise NotAllowed(f"Queue request {request_id} belongs to someone else.", "not_owner")
    changed = db.session.execute(
        update(QueueRequest)
        .where(QueueRequest.id == request_id, QueueRequest.state == "waiting")
        .values(state="cancelled", ended_at=now)
    ).rowcount
    if changed != 1:
        raise Conflict(f"Queue request {request_id} is {request.state}.", "not_waiting")
    slots.tell(QueueChanged(request_id, now, "cancelled"))
    return request


def expire_due(request_id: int, now: datetime) -> bool:
    """The wait of one request ran out: it expires, releasing what was held for it."""
    serialize()
    request = db.session.get(QueueRequest, request_id)
    if request is None or request.state != "waiting" or request.wait_until > now:
        return False
    _expire(request, now)
    return True


def any_waiting() -> bool:
    query = select(QueueRequest.id).where(QueueRequest.state == "waiting").limit(1)
    return db.session.scalar(query) is not None


def expiring_ids(now: datetime) -> list[int]:
    query = select(QueueRequest.id).where(
        QueueRequest.state == "waiting", QueueRequest.wait_until <= now
    )
    return list(db.session.scalars(query))


# Facts after which a waiting request may fit: a VM freed, changed, added or removed, a
# reservation made, moved or cancelled, the queue itself changed.
_QUIET = (BookingStarted, ExpiryWarned, HeartbeatReceived, GroupCreated)


def _settles(fact) -> bool:
    if isinstance(fact, QueueChanged):
        return fact.what != "granted"
    return not isinstance(fact, _QUIET)


def translate(_session, recorded: list) -> None:
    """Settle the queue in the transaction of any change that may let a request fit."""
    triggers = [fact for fact in recorded if _settles(fact)]
    if not triggers:
        return
    now = facts.latest(triggers) or utcnow()
    settle(now, current_app.extensions["loadzone.rules"])
