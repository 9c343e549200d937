"""Facts to realtime messages: the full objects every browser keeps its view with.

Runs just before the commit, so each object is read once, as the transaction leaves it,
however many facts touched it; VM and booking messages go out before notifications.
"""

from __future__ import annotations

from sqlalchemy import select

from loadzone.booking import queue_view
from loadzone.core import events, facts, prebuilt
from loadzone.core.timeutil import utcnow
from loadzone.extensions import db
from loadzone.inventory import catalog
from loadzone.models import Booking, Group, QueueRequest
from loadzone.serialize import booking_dict, group_dict

CHUNK = 500
_SENT = "loadzone.vms_sent"
# Read as the transaction leaves them: plain rows, never an ORM object a use case still holds.
_BOOKINGS = select(*Booking.__table__.columns).where(Booking.id.in_(prebuilt.ids()))


def _touched(recorded: list) -> tuple[dict, dict, dict]:
    """VM, booking and group ids in first-seen order, each mapped to whether it still exists."""
    vms: dict[str, bool] = {}
    bookings: dict[int, bool] = {}
    groups: dict[int, bool] = {}
    for fact in recorded:
        if isinstance(fact, facts.BookingFact):
            vms.setdefault(fact.booking.vm_id, True)
            bookings[fact.booking.id] = True
        elif isinstance(fact, facts.VmChanged | facts.VmAdded):
            vms.setdefault(fact.vm_id, True)
        elif isinstance(fact, facts.VmRemoved):
            vms[fact.vm_id] = False
        elif isinstance(fact, facts.GroupChanged | facts.GroupCreated):
            groups.setdefault(fact.group_id, True)
        elif isinstance(fact, facts.GroupRemoved):
            groups[fact.group_id] = False
    return vms, bookings, groups


def _vm_messages(session, vm_ids: list[str]) -> None:
    sent = session.info[_SENT] = {}
    for first in range(0, len(vm_ids), CHUNK):
        for data in catalog.describe_many(vm_ids[first : first + CHUNK]):
            events.queue(session, events.Event("vm_updated", data))
            sent[data["id"]] = data


def sent_vm(session, vm_id: str) -> dict | None:
    """The VM as the last commit on `session` sent it to the browsers, if it did: what a
    request that changed it answers, without reading it again."""
    return session.info.pop(_SENT, {}).get(vm_id)


def _queue_messages(session, recorded: list) -> None:
    changed = list(
        dict.fromkeys(f.request_id for f in recorded if isinstance(f, facts.QueueChanged))
    )
    if changed:
        requests = session.scalars(select(QueueRequest).where(QueueRequest.id.in_(changed)))
        for data in queue_view.describe(list(requests), facts.latest(recorded) or utcnow()):
            events.queue(session, events.Event("queue_updated", data))


def translate(session, recorded: list) -> None:
    """Queue vm_updated/vm_deleted, booking_updated, queue_updated, group_updated/deleted."""
    vms, bookings, groups = _touched(recorded)
    session.flush()
    # A VM removed in this transaction may still have booking facts: their VM is gone.
    removed = [vm_id for vm_id, alive in vms.items() if not alive]
    _vm_messages(session, [vm_id for vm_id, alive in vms.items() if alive])
    for vm_id in removed:
        events.queue(session, events.Event("vm_deleted", {"id": vm_id}))
    if bookings:
        by_id = {row.id: row for row in prebuilt.run(_BOOKINGS, {"ids": list(bookings)})}
        for booking_id in bookings:
            if booking_id in by_id:
                data = booking_dict(by_id[booking_id])
                events.queue(session, events.Event("booking_updated", data))
    _queue_messages(session, recorded)
    for group_id, alive in groups.items():
        group = db.session.get(Group, group_id) if alive else None
        if group is not None:
            events.queue(session, events.Event("group_updated", group_dict(group)))
        else:
            events.queue(session, events.Event("group_deleted", {"id": group_id}))
