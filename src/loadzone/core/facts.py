"""What happened, in the domain's words: use cases record these; the edges translate them.

Sockets, stored notifications, e-mail and the scheduler all start from these facts after
(or, for rows that must commit with the change, just before) the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from loadzone.models import Booking


def latest(recorded: list) -> datetime | None:
    """The latest instant among facts that carry one."""
    return max((f.at for f in recorded if getattr(f, "at", None) is not None), default=None)


@dataclass(frozen=True)
class BookingView:
    """A booking as the change left it."""

    id: int
    vm_id: str
    owner: str
    state: str
    start: datetime
    end: datetime
    idle_at: datetime | None = None

    @classmethod
    def of(cls, booking: Booking) -> BookingView:
        return cls(
            booking.id,
            booking.vm_id,
            booking.owner,
            booking.state,
            booking.start,
            booking.end,
            booking.idle_at,
        )


@dataclass(frozen=True)
class BookingFact:
    booking: BookingView
    actor: str | None
    at: datetime


@dataclass(frozen=True)
class BookingStarted(BookingFact):
    """A booking became active: booked now, a reservation began, or the queue granted it."""

    how: str = "book"  # book | reservation | queue


@dataclass(frozen=True)
class ReservationMade(BookingFact):
    pass


@dataclass(frozen=True)
class BookingRetimed(BookingFact):
    """An active booking's end or a reservation's slot moved; `hours` added by a renewal."""

    how: str = "renew"  # renew | override | move
    hours: int | None = None


@dataclass(frozen=True)
class BookingEnded(BookingFact):
    reason: str = "manual"  # manual | admin | expired | idle


@dataclass(frozen=True)
class ReservationCancelled(BookingFact):
    why: str = "owner"  # owner | admin | maintenance | vm_deleted


@dataclass(frozen=True)
class ExpiryWarned(BookingFact):
    minutes: int = 0


@dataclass(frozen=True)
class HeartbeatReceived(BookingFact):
    idle_at: datetime | None = None


@dataclass(frozen=True)
class QueueChanged:
    """A request joined, was granted, expired or left the queue."""

    request_id: int
    at: datetime
    what: str  # joined | granted | expired | cancelled


@dataclass(frozen=True)
class VmChanged:
    vm_id: str
    at: datetime | None = None


@dataclass(frozen=True)
class VmAdded:
    vm_id: str
    group_id: int | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class VmRemoved:
    vm_id: str


@dataclass(frozen=True)
class GroupChanged:
    group_id: int


@dataclass(frozen=True)
class GroupCreated:
    group_id: int
    name: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class GroupRemoved:
    group_id: int


@dataclass(frozen=True)
class HookRunPlanned:
    """A release or book hook run was written; an instance's hook worker will claim it."""

    kind: str  # release | book
    vm_id: str


@dataclass(frozen=True)
class ResetFailed:
    """The release hook failed: the VM went into maintenance with `reason`."""

    vm_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class BookHookFailed:
    """The book hook of an active booking failed; the booking stays."""

    vm_id: str
    booking_id: int | None
    owner: str | None
    reason: str
    at: datetime
