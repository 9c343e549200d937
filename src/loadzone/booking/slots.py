"""A VM's time: its active booking, what overlaps a span, when it is next reserved.

The rule that no two reserved or active bookings of a VM overlap is checked here inside the
write transaction (SQLite takes the write lock at its start) and enforced again by the
database on PostgreSQL (an exclusion constraint), so simultaneous requests cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from loadzone.booking.policies import HOUR, Rules
from loadzone.core import events, facts, prebuilt, trace
from loadzone.core.timeutil import isoformat
from loadzone.errors import Conflict
from loadzone.extensions import db
from loadzone.models import HOLDING, Booking, HistoryEntry

# Built once (core/prebuilt.py): these run on every booking and release.
_ACTIVE = select(Booking).where(Booking.vm_id == bindparam("vm_id"), Booking.state == "active")
_NEXT = (
    select(Booking)
    .where(
        Booking.vm_id == bindparam("vm_id"),
        Booking.state == "reserved",
        Booking.end > bindparam("after"),
    )
    .order_by(Booking.start)
    .limit(1)
)
_NEXT_OTHER = _NEXT.where(Booking.id != bindparam("ignore"))


def active_booking(vm_id: str) -> Booking | None:
    """The VM's current booking, if any."""
    return db.session.scalar(_ACTIVE, {"vm_id": vm_id})


def get(booking_id: int, *, lock: bool = False) -> Booking | None:
    query = select(Booking).where(Booking.id == booking_id)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def clash(vm_id: str, start: datetime, end: datetime, ignore: int | None = None) -> Booking | None:
    """The first reserved or active booking of the VM overlapping [start, end)."""
    query = select(Booking).where(
        Booking.vm_id == vm_id,
        Booking.state.in_(HOLDING),
        Booking.start < end,
        Booking.end > start,
    )
    if ignore is not None:
        query = query.where(Booking.id != ignore)
    return db.session.scalar(query.order_by(Booking.start).limit(1))


def next_reservation(vm_id: str, after: datetime, ignore: int | None = None) -> Booking | None:
    """The VM's earliest reservation that has not ended by `after`."""
    if ignore is None:
        return db.session.scalar(_NEXT, {"vm_id": vm_id, "after": after})
    return db.session.scalar(_NEXT_OTHER, {"vm_id": vm_id, "after": after, "ignore": ignore})


def whole_hours(span: timedelta) -> int:
    return max(0, int(span // HOUR))


def refuse_reserved(vm_id: str, reservation: Booking, room: timedelta, adding: bool) -> None:
    """409 `reserved`: the VM is free until the reservation; say how many hours still fit."""
    hours = whole_hours(room)
    verb = "added" if adding else "booked"
    hint = f"at most {hours} h can be {verb}" if hours else f"no whole hour can be {verb}"
    raise Conflict(
        f"VM {vm_id} is reserved from {isoformat(reservation.start)} by {reservation.owner}; "
        f"it is free until then, so {hint}.",
        "reserved",
    )


def refuse_overlap(vm_id: str, other: Booking) -> None:
    what = "booked" if other.state == "active" else "reserved"
    raise Conflict(
        f"VM {vm_id} is {what} by {other.owner} from {isoformat(other.start)} to "
        f"{isoformat(other.end)}; that time is not available.",
        "not_available",
    )


def flush_guarded(vm_id: str) -> None:
    """Flush, turning the database's own overlap refusal (PostgreSQL) into a conflict."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"VM {vm_id} was taken for that time meanwhile; try again.", "not_available"
        ) from exc


def warned_for(start: datetime, end: datetime, now: datetime, rules: Rules) -> bool:
    """A booking no longer than the lead time gets no separate warning."""
    return end - start <= rules.lead and end - now <= rules.lead


def add(vm_id: str, owner: str, start: datetime, end: datetime, state: str, now, rules) -> Booking:
    """Insert a reserved or active booking; the database settles a lost race."""
    booking = Booking(
        vm_id=vm_id,
        owner=owner,
        start=start,
        end=end,
        state=state,
        created_at=now,
        warned=state == "active" and warned_for(start, end, now, rules),
    )
    db.session.add(booking)
    flush_guarded(vm_id)
    return booking


_AUDIT = insert(HistoryEntry.__table__)


def audit(booking: Booking, action: str, actor: str | None, now, end=None, reason=None) -> None:
    """Append one audit record linked to its booking (a Core insert: it is on every path)."""
    # Reservations and cancellations carry the reserved slot; the rest when they happened.
    start = booking.start if action in ("reserve", "cancel") else now
    values = dict(
        at=now,
        action=action,
        reason=reason,
        vm_id=booking.vm_id,
        user=booking.owner,
        actor=actor,
        start=start,
        end=end,
        booking_id=booking.id,
        request_id=trace.request_id(),
    )
    prebuilt.run(_AUDIT, values)


def tell(fact) -> None:
    """Record a fact on the current transaction."""
    events.record(db.session, fact)


def view(booking: Booking) -> facts.BookingView:
    return facts.BookingView.of(booking)
