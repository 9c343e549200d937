"""Stored notifications: one row per event (NULL recipient = everyone), read marks per person."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_request_context, request
from sqlalchemy import and_, exists, func, insert, or_, select

from loadzone.booking import extend
from loadzone.core import events, prebuilt
from loadzone.extensions import db
from loadzone.models import Notification, NotificationRead, User
from loadzone.serialize import notification_dict

BROADCAST_TYPES = {
    "group_created",
    "vm_added",
    "vm_booked",
    "vm_reserved",
    "vm_renewed",
    "vm_released",
    "vm_auto_released",
}
PERSONAL_TYPES = {
    "expiry_warning",
    "reservation_started",
    "reservation_cancelled",
    "vm_idle_released",
    "queue_granted",
    "queue_expired",
    "vm_reset_failed",
    "vm_book_hook_failed",
}


# A Core insert built once: this runs on every booking, and an ORM flush costs far more.
_INSERT = insert(Notification.__table__).returning(Notification.__table__.c.id)


def record(
    type_: str,
    message: str,
    now: datetime,
    *,
    vm_id: str | None = None,
    group_id: int | None = None,
    actor: str | None = None,
    recipient: str | None = None,
    mail_to: str | None = None,
    owner: str | None = None,
    expires_at: datetime | None = None,
    group_name: str | None = None,
) -> Notification:
    """Store a notification in the current transaction and queue its realtime event."""
    assert type_ in BROADCAST_TYPES | PERSONAL_TYPES, type_
    values = dict(
        type=type_,
        message=message,
        vm_id=vm_id,
        group_id=group_id,
        actor=actor,
        recipient=recipient,
        created_at=now,
        owner=owner,
        expires_at=expires_at,
        group_name=group_name,
    )
    note = Notification(id=prebuilt.run(_INSERT, values).scalar_one(), **values)
    payload = as_dict(note)
    events.queue(db.session, events.Event("notification", payload, recipient, mail_to))
    return note


def public_base() -> str:
    """Where people reach this server: LOADZONE_PUBLIC_URL, else the address asked for, else
    the bound host and port (a job has no request)."""
    settings = current_app.extensions["loadzone.settings"]
    if settings.public_url:
        return settings.public_url
    if has_request_context():
        return request.host_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


def extend_url(notification_id: int) -> str:
    """The one-click extend link of an expiry warning (derived, never stored)."""
    secret = current_app.extensions["loadzone.settings"].secret_key
    return f"{public_base()}/extend/{extend.token_for(secret, notification_id)}"


def as_dict(note: Notification, read: bool | None = None) -> dict:
    """The notification object of the API, the socket event, the mail and the webhook."""
    data = notification_dict(note, read)
    if note.type == "expiry_warning":
        data["extend_url"] = extend_url(note.id)
    return data


def _read_mark(email: str):
    """True for a notification the person marked read one by one."""
    return exists().where(
        and_(NotificationRead.user == email, NotificationRead.notification_id == Notification.id)
    )


def _visible_to(email: str):
    return or_(Notification.recipient.is_(None), Notification.recipient == email)


def list_for(email: str, limit: int, before_id: int | None) -> tuple[list[dict], int | None]:
    """A page of the person's notifications, newest first, each with its `read` flag."""
    user = db.session.get(User, email)
    read_upto = user.read_upto if user else 0
    read_mark = _read_mark(email)
    query = select(Notification, read_mark.label("marked")).where(_visible_to(email))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    rows = db.session.execute(query.order_by(Notification.id.desc()).limit(limit + 1)).all()
    items = [
        as_dict(note, read=bool(marked) or note.id <= read_upto) for note, marked in rows[:limit]
    ]
    next_id = rows[limit - 1][0].id if len(rows) > limit else None
    return items, next_id


def mark_read(email: str, ids: list[int] | None) -> int:
    """Mark notifications read (only ones the person can see), or all with ids=None; returns
    how many were asked for and visible, or for all, how many were unread."""
    user = db.session.get(User, email)
    if ids is None:
        unread = unread_count(email)
        newest = db.session.scalar(
            select(Notification.id).where(_visible_to(email)).order_by(Notification.id.desc())
        )
        if newest:
            user.read_upto = max(user.read_upto or 0, newest)
        return unread
    visible = set(
        db.session.scalars(
            select(Notification.id).where(Notification.id.in_(ids), _visible_to(email))
        )
    )
    already = set(
        db.session.scalars(
            select(NotificationRead.notification_id).where(
                NotificationRead.user == email, NotificationRead.notification_id.in_(visible)
            )
        )
    )
    for note_id in visible - already:
        db.session.add(NotificationRead(user=email, notification_id=note_id))
    return len(visible)


def unread_count(email: str) -> int:
    """How many notifications the person has not read."""
    user = db.session.get(User, email)
    read_upto = user.read_upto if user else 0
    read_mark = _read_mark(email)
    query = select(func.count(Notification.id)).where(
        _visible_to(email), Notification.id > read_upto, ~read_mark
    )
    return db.session.scalar(query) or 0
