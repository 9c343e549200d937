"""What happened: events queued on the transaction and published only after it commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from flask_sqlalchemy.session import Session
from sqlalchemy import event

log = logging.getLogger(__name__)
_KEY = "loadzone.events"


@dataclass(frozen=True)
class Event:
    """One realtime event: `to` is a user's e-mail for personal events, None for everyone."""

    name: str
    payload: dict
    to: str | None = None
    # Who should also get this by e-mail (never sent to browsers).
    mail_to: str | None = None


Subscriber = Callable[[Event], None]


def queue(session, event_: Event) -> None:
    """Queue an event on the session's transaction; it is dropped if the transaction rolls back."""
    session.info.setdefault(_KEY, []).append(event_)


def subscribe(app: Flask, subscriber: Subscriber) -> None:
    """Have `subscriber` called with each event after its transaction commits."""
    app.extensions.setdefault(_KEY, []).append(subscriber)


def _publish(session) -> None:
    pending = session.info.pop(_KEY, [])
    if not pending:
        return
    subscribers = current_app.extensions.get(_KEY, [])
    for event_ in pending:
        for subscriber in subscribers:
            try:
                subscriber(event_)
            except Exception:  # one broken channel must not hide the event from the others
                log.exception("subscriber %r failed on %s", subscriber, event_.name)


def _drop(session, *_args) -> None:
    session.info.pop(_KEY, None)


def init_app(app: Flask) -> None:
    """Hook the session so queued events follow commits and vanish with rollbacks."""
    app.extensions.setdefault(_KEY, [])
    if not event.contains(Session, "after_commit", _publish):
        event.listen(Session, "after_commit", _publish)
        event.listen(Session, "after_rollback", _drop)
