"""Reading the queue: requests in grant order with their position and estimated grant."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from loadzone.booking import pools
from loadzone.core.timeutil import isoformat
from loadzone.extensions import db
from loadzone.models import Booking, QueueRequest, Vm


def _members(request: QueueRequest) -> set[str]:
    target = pools.Target(request.vm_id, request.group_id, json.loads(request.labels or "{}"))
    return set(db.session.scalars(select(Vm.id).where(pools.members(target))))


def free_times(target: pools.Target, now: datetime) -> list[datetime]:
    """When each VM of the target is (or becomes) free, soonest first."""
    vm_ids = set(db.session.scalars(select(Vm.id).where(pools.members(target))))
    return sorted(_free_times(vm_ids, now).values())


def _free_times(vm_ids: set[str], now: datetime) -> dict[str, datetime]:
    """When each usable VM is (or becomes) free, from current expiries; maintenance never."""
    ends = dict(
        db.session.execute(
            select(Booking.vm_id, Booking.end).where(
                Booking.vm_id.in_(vm_ids), Booking.state == "active"
            )
        ).all()
    )
    usable = db.session.scalars(select(Vm.id).where(Vm.id.in_(vm_ids), Vm.maintenance.is_(False)))
    return {vm_id: max(ends.get(vm_id, now), now) for vm_id in usable}


def _eta(request: QueueRequest, ahead: list[QueueRequest], members: dict, now) -> datetime | None:
    """Requests ahead take the VMs that free up first; this one gets the next `count`."""
    union = set().union(members[request.id], *(members[r.id] for r in ahead))
    free_at = _free_times(union, now)
    taken: set[str] = set()
    for other in ahead:
        usable = sorted(members[other.id] & free_at.keys() - taken, key=lambda v: (free_at[v], v))
        taken.update(usable[: other.count])
    mine = sorted(free_at[v] for v in members[request.id] & free_at.keys() - taken)
    return mine[request.count - 1] if len(mine) >= request.count else None


def describe(requests: list[QueueRequest], now: datetime) -> list[dict]:
    """Requests as the API shows them; waiting ones with `position` and `eta`."""
    waiting = db.session.scalars(
        select(QueueRequest)
        .where(QueueRequest.state == "waiting")
        .order_by(QueueRequest.created_at, QueueRequest.id)
    ).all()
    members = {r.id: _members(r) for r in waiting}
    order = [r.id for r in waiting]
    granted = _granted_bookings([r.id for r in requests])
    out = []
    for request in requests:
        position = eta = None
        if request.id in members:
            older = waiting[: order.index(request.id)]
            ahead = [r for r in older if members[r.id] & members[request.id]]
            position = len(ahead) + 1
            eta = _eta(request, ahead, members, now)
        out.append(as_dict(request, position, eta, granted.get(request.id, [])))
    return out


def _granted_bookings(request_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    if request_ids:
        rows = db.session.execute(
            select(Booking.request_id, Booking.id)
            .where(Booking.request_id.in_(request_ids))
            .order_by(Booking.id)
        )
        for request_id, booking_id in rows:
            found.setdefault(request_id, []).append(booking_id)
    return found


def as_dict(request: QueueRequest, position, eta, booking_ids: list[int]) -> dict:
    return {
        "id": request.id,
        "owner": request.owner,
        "vm_id": request.vm_id,
        "group": request.group_id,
        "labels": json.loads(request.labels or "{}"),
        "count": request.count,
        "hours": request.hours,
        "heartbeat_s": request.heartbeat_s,
        "created_at": isoformat(request.created_at),
        "wait_until": isoformat(request.wait_until),
        "state": request.state,
        "position": position,
        "eta": isoformat(eta),
        "booking_ids": booking_ids,
        "held_vm_ids": list(
            db.session.scalars(select(Vm.id).where(Vm.held_for == request.id).order_by(Vm.id))
        ),
    }


def waiting(target: pools.Target | None = None) -> list[QueueRequest]:
    """Waiting requests in grant order, optionally only those that could use the target's VMs."""
    rows = db.session.scalars(
        select(QueueRequest)
        .where(QueueRequest.state == "waiting")
        .order_by(QueueRequest.created_at, QueueRequest.id)
    ).all()
    if target is None:
        return list(rows)
    wanted = set(db.session.scalars(select(Vm.id).where(pools.members(target))))
    return [r for r in rows if _members(r) & wanted]
