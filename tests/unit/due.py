"""The due-work use cases (which take booking ids) addressed by VM, as part one's tests are."""

from __future__ import annotations

from sqlalchemy import select

from loadzone.booking import expiry
from loadzone.extensions import db
from loadzone.models import Booking


def _active(vm_id: str) -> int | None:
    return db.session.scalar(
        select(Booking.id).where(Booking.vm_id == vm_id, Booking.state == "active")
    )


def _vm_of(booking_ids: list[int]) -> list[str]:
    return [db.session.get(Booking, booking_id).vm_id for booking_id in booking_ids]


def release_due(vm_id: str, now) -> bool:
    booking_id = _active(vm_id)
    return booking_id is not None and expiry.release_due(booking_id, now)


def warn_due(vm_id: str, now, rules):
    booking_id = _active(vm_id)
    return None if booking_id is None else expiry.warn_due(booking_id, now, rules)


def warning_due(vm_id: str, now, rules) -> bool:
    booking_id = _active(vm_id)
    return booking_id is not None and expiry.warning_due(booking_id, now, rules)


def expired_ids(now) -> list[str]:
    return _vm_of(expiry.expired_ids(now))


def warning_due_ids(now, rules) -> list[str]:
    return _vm_of(expiry.warning_due_ids(now, rules))
