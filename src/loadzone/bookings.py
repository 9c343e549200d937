"""Booking use cases: book, renew, release, admin override, expiry and warnings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update

from . import inventory, notify
from .errors import Conflict, Invalid, NotAllowed
from .extensions import db
from .models import HistoryEntry, User, Vm
from .permissions import Actor, require_admin, require_manage


@dataclass(frozen=True)
class Rules:
    """The configurable limits of booking."""

    max_hours: int = 24
    max_active_bookings: int = 0
    warning_minutes: int = 60

    @property
    def lead(self) -> timedelta:
        return timedelta(minutes=self.warning_minutes)


def _check_hours(hours: int, limit: int) -> None:
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= limit:
        raise Invalid(f"hours must be a whole number from 1 to {limit}.", "invalid_hours")


def _record(vm_id, action, user, actor, now, end, reason=None) -> None:
    """Append one audit record (a Core insert: it is on every booking's path)."""
    db.session.execute(
        insert(HistoryEntry).values(
            at=now,
            action=action,
            reason=reason,
            vm_id=vm_id,
            user=user,
            actor=actor,
            start=now,
            end=end,
        )
    )


def _warned_for(expires_at: datetime, now: datetime, rules: Rules, booked_at: datetime) -> bool:
    """A booking no longer than the lead time gets no separate warning."""
    return expires_at - booked_at <= rules.lead and expires_at - now <= rules.lead


def _explain_unbookable(vm_id: str) -> None:
    vm = inventory.get_vm(vm_id)
    if vm.booked_by:
        raise Conflict(f"VM {vm_id} is already booked by {vm.booked_by}.", "already_booked")
    if vm.maintenance:
        raise Conflict(f"VM {vm_id} is in maintenance and cannot be booked.", "in_maintenance")
    raise Conflict(f"VM {vm_id} cannot be booked right now.", "conflict")


def _check_active_limit(actor: Actor, rules: Rules) -> None:
    if not rules.max_active_bookings:
        return
    # Lock the person's row so two parallel bookings cannot both pass the count.
    db.session.execute(select(User.email).where(User.email == actor.email).with_for_update())
    active = db.session.scalar(select(func.count()).where(Vm.booked_by == actor.email))
    if active >= rules.max_active_bookings:
        raise Conflict(
            f"You already hold {active} bookings, the most allowed ({rules.max_active_bookings}).",
            "too_many_bookings",
        )


def book(actor: Actor, vm_id: str, hours: int, now: datetime, rules: Rules) -> Vm:
    """Book a free VM for `hours`; of simultaneous bookings exactly one wins."""
    _check_hours(hours, rules.max_hours)
    inventory.ensure_user(actor.email, now)
    _check_active_limit(actor, rules)
    expires_at = now + timedelta(hours=hours)
    won = db.session.execute(
        update(Vm)
        .where(Vm.id == vm_id, Vm.booked_by.is_(None), Vm.maintenance.is_(False))
        .values(
            booked_by=actor.email,
            booked_at=now,
            expires_at=expires_at,
            warned=_warned_for(expires_at, now, rules, now),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        _explain_unbookable(vm_id)
    _record(vm_id, "book", actor.email, actor.email, now, expires_at)
    notify.record(
        "vm_booked",
        f"{actor.email} booked VM {vm_id} for {hours} h",
        now,
        vm_id=vm_id,
        actor=actor.email,
    )
    return _publish(vm_id)


def _publish(vm_id: str) -> Vm:
    """Read the VM as the conditional updates left it and queue it for every browser."""
    vm = db.session.get(Vm, vm_id, populate_existing=True)
    inventory.publish_vm(vm)
    return vm


def _booked_vm(actor: Actor, vm_id: str) -> Vm:
    vm = inventory.get_vm(vm_id, lock=True)
    if not vm.booked_by:
        raise Conflict(f"VM {vm_id} is not booked.", "not_booked")
    if not actor.can_change_booking(vm.booked_by):
        raise NotAllowed(f"VM {vm_id} is booked by someone else.", "not_owner")
    return vm


def _retime(vm: Vm, expires_at: datetime, now: datetime, rules: Rules) -> None:
    """Move the expiry with a conditional update: a concurrent release makes it a conflict."""
    changed = db.session.execute(
        update(Vm)
        .where(Vm.id == vm.id, Vm.booked_by == vm.booked_by, Vm.expires_at == vm.expires_at)
        .values(
            expires_at=expires_at, warned=_warned_for(expires_at, now, rules, vm.booked_at or now)
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict(f"VM {vm.id} changed meanwhile; try again.", "conflict")


def renew(actor: Actor, vm_id: str, hours: int, now: datetime, rules: Rules) -> Vm:
    """Add `hours` to the current expiry, up to max_hours from now."""
    _check_hours(hours, rules.max_hours)
    vm = _booked_vm(actor, vm_id)
    base = max(vm.expires_at, now)
    ceiling = now + timedelta(hours=rules.max_hours)
    # Compared as a difference: an admin may have set an expiry where base + hours overflows.
    if timedelta(hours=hours) > ceiling - base:
        room = int((ceiling - base).total_seconds() // 3600)
        hint = (
            f"at most {room} more hour(s) can be added"
            if room >= 1
            else "no whole hour can be added now"
        )
        raise Invalid(
            f"A booking may not end more than {rules.max_hours} h from now; {hint}.",
            "renew_too_long",
        )
    expires_at = base + timedelta(hours=hours)
    owner = vm.booked_by
    _retime(vm, expires_at, now, rules)
    _record(vm_id, "renew", owner, actor.email, now, expires_at)
    notify.record(
        "vm_renewed",
        f"{actor.email} renewed VM {vm_id} by {hours} h",
        now,
        vm_id=vm_id,
        actor=actor.email,
    )
    return _publish(vm_id)


def override_expiry(
    actor: Actor, vm_id: str, expires_at: datetime, now: datetime, rules: Rules
) -> Vm:
    """Admin: set a current booking's expiry to any future instant."""
    require_admin(actor)
    if expires_at <= now:
        raise Invalid("expires_at must lie in the future.", "invalid_expires_at")
    vm = _booked_vm(actor, vm_id)
    owner = vm.booked_by
    changed = db.session.execute(
        update(Vm)
        .where(Vm.id == vm.id, Vm.booked_by == owner)
        .values(expires_at=expires_at, warned=False)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict(f"VM {vm.id} changed meanwhile; try again.", "conflict")
    _record(vm_id, "renew", owner, actor.email, now, expires_at, reason="admin")
    return _publish(vm_id)


def _free(vm_id: str, owner: str, expires_at: datetime | None = None) -> bool:
    query = update(Vm).where(Vm.id == vm_id, Vm.booked_by == owner)
    if expires_at is not None:
        query = query.where(Vm.expires_at <= expires_at)
    done = db.session.execute(
        query.values(
            booked_by=None, booked_at=None, expires_at=None, warned=False
        ).execution_options(synchronize_session=False)
    ).rowcount
    return done == 1


def release(actor: Actor, vm_id: str, now: datetime) -> Vm:
    """Free a VM at once: the owner (reason manual) or an admin (reason admin)."""
    vm = _booked_vm(actor, vm_id)
    owner = vm.booked_by
    reason = "manual" if owner == actor.email else "admin"
    if not _free(vm_id, owner):
        raise Conflict(f"VM {vm_id} changed meanwhile; try again.", "conflict")
    _record(vm_id, "release", owner, actor.email, now, None, reason=reason)
    notify.record(
        "vm_released", f"{actor.email} released VM {vm_id}", now, vm_id=vm_id, actor=actor.email
    )
    return _publish(vm_id)


def delete_vm(actor: Actor, vm_id: str, now: datetime, force: bool = False) -> None:
    """Delete a VM; a booked one only by an admin with force, recorded as an admin release."""
    require_manage(actor)
    vm = inventory.get_vm(vm_id, lock=True)
    if vm.booked_by:
        if not (force and actor.is_admin):
            raise Conflict(
                f"VM {vm_id} is booked by {vm.booked_by}; release it first.", "vm_booked"
            )
        owner = vm.booked_by
        _free(vm_id, owner)
        _record(vm_id, "release", owner, actor.email, now, None, reason="admin")
        notify.record(
            "vm_released", f"{actor.email} released VM {vm_id}", now, vm_id=vm_id, actor=actor.email
        )
        db.session.expire(vm)
    inventory.delete_vm(vm_id)


def release_due(vm_id: str, now: datetime) -> bool:
    """Release one VM if its booking has expired; False when there was nothing to do."""
    vm = db.session.get(Vm, vm_id)
    if vm is None or vm.booked_by is None or vm.expires_at is None or vm.expires_at > now:
        return False
    owner, expired_at = vm.booked_by, vm.expires_at
    # The conditional update is the claim: a second runner (thread or instance) finds 0 rows.
    if not _free(vm_id, owner, expires_at=now):
        return False
    _record(vm_id, "release", owner, None, now, None, reason="expired")
    notify.record(
        "vm_auto_released",
        f"VM {vm_id} of {owner} was released: its booking ended at {expired_at.isoformat()}",
        now,
        vm_id=vm_id,
        actor=None,
        mail_to=owner,
    )
    _publish(vm_id)
    return True


def expired_ids(now: datetime) -> list[str]:
    """VMs whose booking has passed its expiry (uses the expires_at index)."""
    # Ordered by the indexed column: ordering by id made SQLite scan every VM.
    query = select(Vm.id).where(Vm.expires_at <= now).order_by(Vm.expires_at)
    return list(db.session.scalars(query))


def warning_due_ids(now: datetime, rules: Rules) -> list[str]:
    """Bookings inside the warning lead time that were not warned yet."""
    return list(
        db.session.scalars(
            select(Vm.id).where(
                Vm.expires_at <= now + rules.lead, Vm.expires_at > now, Vm.warned.is_(False)
            )
        )
    )


def warning_due(vm_id: str, now: datetime, rules: Rules) -> bool:
    """Read-only: does this booking wait for its warning now? (Spares a write lock.)"""
    vm = db.session.get(Vm, vm_id)
    return bool(vm and vm.booked_by and not vm.warned and now < vm.expires_at <= now + rules.lead)


def warn_due(vm_id: str, now: datetime, rules: Rules) -> str | None:
    """Claim and record the expiry warning of one booking; returns the owner warned, if any."""
    vm = db.session.get(Vm, vm_id)
    if vm is None or vm.booked_by is None or vm.warned:
        return None
    # Not yet inside the lead time, or already over: then the release is due, not a warning.
    if not now < vm.expires_at <= now + rules.lead:
        return None
    claimed = db.session.execute(
        update(Vm)
        .where(
            Vm.id == vm_id,
            Vm.booked_by == vm.booked_by,
            Vm.expires_at == vm.expires_at,
            Vm.warned.is_(False),
        )
        .values(warned=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    minutes = max(1, round((vm.expires_at - now).total_seconds() / 60))
    notify.record(
        "expiry_warning",
        f"Your booking of VM {vm_id} ends in {minutes} min",
        now,
        vm_id=vm_id,
        recipient=vm.booked_by,
        mail_to=vm.booked_by,
    )
    return vm.booked_by
