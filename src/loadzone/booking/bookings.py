"""Booking use cases on a VM held now: book, renew, release, the admin override, delete."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from loadzone.booking import policies, slots
from loadzone.booking.policies import Rules
from loadzone.core.facts import BookingEnded, BookingRetimed, BookingStarted, ReservationCancelled
from loadzone.core.timeutil import isoformat
from loadzone.errors import Conflict, Invalid, NotAllowed
from loadzone.extensions import db
from loadzone.hooks import runs as hook_runs
from loadzone.identity.permissions import Actor, require_admin, require_manage
from loadzone.inventory import catalog
from loadzone.models import Booking, Vm

__all__ = [
    "Rules",
    "book",
    "book_now",
    "delete_vm",
    "end",
    "override_expiry",
    "release",
    "release_now",
    "renew",
]


def book_now(
    actor: Actor,
    vm_id: str,
    hours: int,
    now: datetime,
    rules: Rules,
    busy: str = "already_booked",
    heartbeat_s: int | None = None,
) -> Booking:
    """Book a free VM from now for `hours`; of simultaneous bookings exactly one wins."""
    policies.check_hours(hours, rules.max_hours)
    catalog.ensure_user(actor.email, now)
    vm = catalog.get_vm(vm_id, lock=True)
    current = slots.active_booking(vm_id)
    if current is not None:
        raise Conflict(
            f"VM {vm_id} is already booked by {current.owner} until {isoformat(current.end)}.",
            busy,
        )
    if vm.resetting:
        raise Conflict(
            f"VM {vm_id} is being reset by its release hook and cannot be booked yet.",
            "resetting",
        )
    if vm.maintenance:
        raise Conflict(f"VM {vm_id} is in maintenance and cannot be booked.", "in_maintenance")
    if vm.held_for is not None:
        raise Conflict(
            f"VM {vm_id} is held for the oldest request waiting for it (first come, first "
            "served); join the queue to wait your turn.",
            "held",
        )
    end = now + timedelta(hours=hours)
    upcoming = slots.next_reservation(vm_id, now)
    if upcoming is not None and upcoming.start < end:
        slots.refuse_reserved(vm_id, upcoming, upcoming.start - now, adding=False)
    policies.check_length(vm_id, now, end)
    policies.lock_person(actor.email)
    policies.check_active_limit(actor.email, rules)
    policies.check_week(actor.email, now, end, now, rules)
    booking = slots.add(vm_id, actor.email, now, end, "active", now, rules)
    if heartbeat_s:
        booking.heartbeat_s = heartbeat_s
        booking.idle_at = now + timedelta(seconds=heartbeat_s)
    slots.audit(booking, "book", actor.email, now, end)
    slots.tell(BookingStarted(slots.view(booking), actor.email, now))
    return booking


def book(actor: Actor, vm_id: str, hours: int, now: datetime, rules: Rules) -> Vm:
    """Book a VM now (the part-one endpoint); returns the VM as it is after."""
    book_now(actor, vm_id, hours, now, rules)
    return catalog.fresh_vm(vm_id)


def _held(actor: Actor, vm_id: str) -> Booking:
    """The VM's active booking, which the actor may change."""
    catalog.get_vm(vm_id, lock=True)
    booking = slots.active_booking(vm_id)
    if booking is None:
        raise Conflict(f"VM {vm_id} is not booked.", "not_booked")
    if not actor.can_change_booking(booking.owner):
        raise NotAllowed(f"VM {vm_id} is booked by someone else.", "not_owner")
    return booking


def retime(
    actor: Actor, booking: Booking, end: datetime, now: datetime, rules: Rules, *, policy: bool
) -> None:
    """Move an active booking's end: never into a reservation; `policy` checks the quotas."""
    upcoming = slots.next_reservation(booking.vm_id, now, ignore=booking.id)
    if upcoming is not None and upcoming.start < end:
        room = upcoming.start - max(booking.end, now)
        slots.refuse_reserved(booking.vm_id, upcoming, room, adding=end > booking.end)
    if policy:
        policies.check_length(booking.vm_id, booking.start, end)
        policies.lock_person(booking.owner)
        policies.check_week(booking.owner, booking.start, end, now, rules, ignore=booking.id)
    changed = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.state == "active", Booking.end == booking.end)
        .values(
            end=end,
            warned=policy and slots.warned_for(booking.start, end, now, rules),
        )
    ).rowcount
    if changed != 1:
        raise Conflict(f"VM {booking.vm_id} changed meanwhile; try again.", "conflict")
    slots.flush_guarded(booking.vm_id)


def renew(actor: Actor, vm_id: str, hours: int, now: datetime, rules: Rules) -> Vm:
    """Add `hours` to the current expiry, up to max_hours from now and never into a reservation."""
    policies.check_hours(hours, rules.max_hours)
    booking = _held(actor, vm_id)
    base = max(booking.end, now)
    ceiling = now + timedelta(hours=rules.max_hours)
    # Compared as a difference: an admin may have set an expiry where base + hours overflows.
    if timedelta(hours=hours) > ceiling - base:
        room = slots.whole_hours(ceiling - base)
        hint = (
            f"at most {room} more hour(s) can be added"
            if room
            else "no whole hour can be added now"
        )
        raise Invalid(
            f"A booking may not end more than {rules.max_hours} h from now; {hint}.",
            "renew_too_long",
        )
    end = base + timedelta(hours=hours)
    retime(actor, booking, end, now, rules, policy=True)
    slots.audit(booking, "renew", actor.email, now, end)
    slots.tell(BookingRetimed(slots.view(booking), actor.email, now, how="renew", hours=hours))
    return catalog.fresh_vm(vm_id)


def override_expiry(
    actor: Actor, vm_id: str, expires_at: datetime, now: datetime, rules: Rules
) -> Vm:
    """Admin: set a current booking's expiry to any future instant (not into a reservation)."""
    require_admin(actor)
    if expires_at <= now:
        raise Invalid("expires_at must lie in the future.", "invalid_expires_at")
    booking = _held(actor, vm_id)
    retime(actor, booking, expires_at, now, rules, policy=False)
    slots.audit(booking, "renew", actor.email, now, expires_at, reason="admin")
    slots.tell(BookingRetimed(slots.view(booking), actor.email, now, how="override"))
    return catalog.fresh_vm(vm_id)


def end(
    booking: Booking, actor: str | None, now: datetime, reason: str, *, due: bool = False
) -> bool:
    """End an active booking; the conditional update is the claim (False: already ended, or
    with `due`, renewed meanwhile)."""
    query = update(Booking).where(Booking.id == booking.id, Booking.state == "active")
    if due:
        query = query.where(Booking.end <= now)
    done = db.session.execute(query.values(state="ended", ended_at=now, end_reason=reason)).rowcount
    return done == 1 and record_end(booking, actor, now, reason)


def record_end(booking: Booking, actor: str | None, now: datetime, reason: str) -> bool:
    """The audit record and the fact of a booking that just ended; its VM's reset begins."""
    slots.audit(booking, "release", actor, now, None, reason=reason)
    hook_runs.plan_release(booking.vm_id, booking.id, now)
    slots.tell(BookingEnded(slots.view(booking), actor, now, reason=reason))
    return True


def release(actor: Actor, vm_id: str, now: datetime) -> Vm:
    """Free a VM at once; returns the VM as it is after."""
    release_now(actor, vm_id, now)
    return catalog.fresh_vm(vm_id)


def release_now(actor: Actor, vm_id: str, now: datetime) -> None:
    """Free a VM at once: the owner (reason manual) or an admin (reason admin)."""
    booking = _held(actor, vm_id)
    reason = "manual" if booking.owner == actor.email else "admin"
    if not end(booking, actor.email, now, reason):
        raise Conflict(f"VM {vm_id} changed meanwhile; try again.", "conflict")


def cancel(booking: Booking, actor: str | None, now: datetime, why: str) -> bool:
    """Withdraw a reservation; the conditional update is the claim."""
    done = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.state == "reserved")
        .values(state="cancelled", ended_at=now, end_reason="cancelled")
    ).rowcount
    if done != 1:
        return False
    slots.audit(booking, "cancel", actor, now, booking.end, reason=None)
    slots.tell(ReservationCancelled(slots.view(booking), actor, now, why=why))
    return True


def delete_vm(actor: Actor, vm_id: str, now: datetime, force: bool = False) -> None:
    """Delete a VM; a booked one only by an admin with force, recorded as an admin release.

    Its reservations are cancelled and their owners told.
    """
    require_manage(actor)
    catalog.get_vm(vm_id, lock=True)
    current = slots.active_booking(vm_id)
    if current is not None:
        if not (force and actor.is_admin):
            raise Conflict(
                f"VM {vm_id} is booked by {current.owner}; release it first.", "vm_booked"
            )
        end(current, actor.email, now, "admin")
    reserved = select(Booking).where(Booking.vm_id == vm_id, Booking.state == "reserved")
    for reservation in db.session.scalars(reserved):
        cancel(reservation, actor.email, now, "vm_deleted")
    catalog.delete_vm(vm_id)
