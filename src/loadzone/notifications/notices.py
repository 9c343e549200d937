"""Facts to stored notifications, in English: the words live here, not in the use cases."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from loadzone.booking import extend
from loadzone.core import facts
from loadzone.core.timeutil import isoformat
from loadzone.extensions import db
from loadzone.inventory import catalog
from loadzone.models import Booking, QueueRequest
from loadzone.notifications import notify

WHY_CANCELLED = {
    "admin": "an administrator cancelled it",
    "maintenance": "the VM was in maintenance when it was due to start",
    "vm_deleted": "the VM was removed",
}


def _hours(span: timedelta) -> str:
    hours = span / timedelta(hours=1)
    return f"{hours:.0f}" if hours == int(hours) else f"{hours:.1f}"


def _about(b, *, ends: bool = True) -> dict:
    """Who and what a booking notification is about, so that it reads alone in a chat."""
    group = catalog.group_of(b.vm_id)
    return dict(
        vm_id=b.vm_id,
        owner=b.owner,
        expires_at=b.end if ends else None,
        group_name=group.name if group else None,
    )


def _booking(fact: facts.BookingFact) -> None:
    b, at, who = fact.booking, fact.at, fact.actor
    if isinstance(fact, facts.BookingStarted) and fact.how == "reservation":
        text = f"Your reservation of VM {b.vm_id} has started; it ends at {isoformat(b.end)}"
        notify.record("reservation_started", text, at, recipient=b.owner, **_about(b))
        return
    if isinstance(fact, facts.BookingStarted):
        how = " from the queue" if fact.how == "queue" else ""
        text = f"{b.owner} booked VM {b.vm_id} for {_hours(b.end - b.start)} h{how}"
        notify.record("vm_booked", text, at, actor=who, **_about(b))
    elif isinstance(fact, facts.ReservationMade):
        text = f"{who} reserved VM {b.vm_id} from {isoformat(b.start)} to {isoformat(b.end)}"
        notify.record("vm_reserved", text, at, actor=who, **_about(b))
    elif isinstance(fact, facts.BookingRetimed) and fact.how == "renew":
        text = f"{who} renewed VM {b.vm_id} by {fact.hours} h"
        notify.record("vm_renewed", text, at, actor=who, **_about(b))
    elif isinstance(fact, facts.BookingEnded):
        _ended(fact)
    elif isinstance(fact, facts.ReservationCancelled) and fact.why in WHY_CANCELLED:
        text = (
            f"Your reservation of VM {b.vm_id} from {isoformat(b.start)} was cancelled: "
            f"{WHY_CANCELLED[fact.why]}"
        )
        about = _about(b, ends=False)
        notify.record("reservation_cancelled", text, at, actor=who, recipient=b.owner, **about)
    elif isinstance(fact, facts.ExpiryWarned):
        text = f"Your booking of VM {b.vm_id} ends in {fact.minutes} min"
        note = notify.record(
            "expiry_warning", text, at, recipient=b.owner, mail_to=b.owner, **_about(b)
        )
        extend.create(current_app.extensions["loadzone.settings"].secret_key, note.id, b.id, at)


def _ended(fact: facts.BookingEnded) -> None:
    b, at, about = fact.booking, fact.at, _about(fact.booking, ends=False)
    if fact.reason == "expired":
        text = f"VM {b.vm_id} of {b.owner} was released: its booking ended at {isoformat(b.end)}"
        notify.record("vm_auto_released", text, at, mail_to=b.owner, **about)
    elif fact.reason == "idle":
        text = f"Your booking of VM {b.vm_id} was released: no heartbeat arrived in time"
        notify.record("vm_idle_released", text, at, recipient=b.owner, **about)
    else:
        text = f"{fact.actor} released VM {b.vm_id}"
        notify.record("vm_released", text, at, actor=fact.actor, **about)


def _queue(fact: facts.QueueChanged) -> None:
    request = db.session.get(QueueRequest, fact.request_id)
    if fact.what == "granted":
        vms = sorted(b.vm_id for b in db.session.query(Booking).filter_by(request_id=request.id))
        text = f"Your turn in the queue: {', '.join(vms)} for {request.hours} h"
        notify.record(
            "queue_granted",
            text,
            fact.at,
            vm_id=vms[0] if len(vms) == 1 else None,
            recipient=request.owner,
            mail_to=request.owner,
            owner=request.owner,
        )
    elif fact.what == "expired":
        text = f"Your wait in the queue ran out (request {request.id}); nothing was granted"
        notify.record("queue_expired", text, fact.at, vm_id=request.vm_id, recipient=request.owner)


def _admins_and(*people: str | None) -> list[str | None]:
    """Each admin (and the people named) once; everyone when no admin is configured."""
    admins = current_app.extensions["loadzone.settings"].admins
    if not admins:
        return [None]
    return list(dict.fromkeys([*(p for p in people if p), *admins]))


def _hook_failed(fact: facts.ResetFailed | facts.BookHookFailed) -> None:
    if isinstance(fact, facts.ResetFailed):
        kind, text, people = "vm_reset_failed", f"VM {fact.vm_id} could not be reset", ()
    else:
        kind, people = "vm_book_hook_failed", (fact.owner,)
        text = f"The book hook of VM {fact.vm_id} failed (booking {fact.booking_id})"
    for person in _admins_and(*people):
        notify.record(kind, f"{text}: {fact.reason}", fact.at, vm_id=fact.vm_id, recipient=person)


def translate(_session, recorded: list) -> None:
    """Store the notification each fact calls for, in the fact's own transaction."""
    for fact in recorded:
        if isinstance(fact, facts.BookingFact):
            _booking(fact)
        elif isinstance(fact, facts.QueueChanged):
            _queue(fact)
        elif isinstance(fact, facts.ResetFailed | facts.BookHookFailed):
            _hook_failed(fact)
        elif isinstance(fact, facts.VmAdded):
            text = f"VM {fact.vm_id} was added"
            notify.record(
                "vm_added",
                text,
                fact.at,
                vm_id=fact.vm_id,
                group_id=fact.group_id,
                actor=fact.actor,
            )
        elif isinstance(fact, facts.GroupCreated):
            text = f"Group {fact.name} was created"
            notify.record("group_created", text, fact.at, group_id=fact.group_id, actor=fact.actor)
