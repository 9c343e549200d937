"""Pools: which VMs a request can use, and which of them fit a span, free longest first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, exists, func, or_, select, true

from loadzone.extensions import db
from loadzone.inventory import labels as vm_labels
from loadzone.models import HOLDING, Booking, Vm


@dataclass(frozen=True)
class Target:
    """One VM by id, or any VM of a group and/or carrying all of some labels."""

    vm_id: str | None = None
    group: int | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        if self.vm_id:
            return f"VM {self.vm_id}"
        parts = []
        if self.group is not None:
            parts.append(f"group {self.group}")
        if self.labels:
            parts.append(", ".join(f"{k}={v}" for k, v in sorted(self.labels.items())))
        return "VMs of " + " with ".join(parts) if parts else "any VM"


def members(target: Target):
    """A condition on Vm: the VM is one the target can use."""
    if target.vm_id:
        return Vm.id == target.vm_id
    condition = true()
    if target.group is not None:
        condition = condition & (Vm.group_id == target.group)
    if target.labels:
        condition = condition & vm_labels.matching(target.labels)
    return condition


def grantable(holder: int | None = None):
    """A condition on Vm: a claim or a queue grant (for `holder`) may take it now."""
    return Vm.resetting.is_(False) & or_(Vm.held_for.is_(None), Vm.held_for == holder)


def _busy(start: datetime, end: datetime):
    """A condition on Vm: a reserved or active booking of it overlaps [start, end)."""
    return exists().where(
        Booking.vm_id == Vm.id,
        Booking.state.in_(HOLDING),
        Booking.start < end,
        Booking.end > start,
    )


def _free_longest_first():
    """Never booked first, then by when the last booking ended, then by id."""
    last_end = (
        select(func.max(func.coalesce(Booking.ended_at, Booking.end)))
        .where(Booking.vm_id == Vm.id, Booking.state == "ended")
        .scalar_subquery()
    )
    return [case((last_end.is_(None), 0), else_=1), last_end, Vm.id]


def fitting(
    target: Target,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    holder: int | None = None,
    lock: bool = False,
) -> list[str]:
    """VMs of the target free over [start, end) and not in maintenance, free longest first.

    A span starting now also needs the VM not resetting and not held for another request
    (`holder` may use its own). With `lock` (PostgreSQL), rows another transaction is
    changing are skipped: that transaction settles the queue again once it commits.
    """
    query = select(Vm.id).where(members(target), ~_busy(start, end), Vm.maintenance.is_(False))
    if start <= now:
        query = query.where(grantable(holder))
    if start <= now and not target.vm_id:
        # A pool never hands out a VM that stopped answering; naming one still gets it.
        query = query.where(or_(Vm.health.is_(None), Vm.health != "down"))
    query = query.order_by(*_free_longest_first())
    if lock and db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Vm)
    return list(db.session.scalars(query))


def known(target: Target) -> int:
    """How many VMs the target names at all."""
    return db.session.scalar(select(func.count()).select_from(Vm).where(members(target)))
