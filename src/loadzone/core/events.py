"""The after-commit bus: facts recorded on a transaction, translated and published after commit.

A use case records facts (`record`). Just before its transaction commits, translators turn
them into what must commit with the change (stored notifications) and into realtime
messages (`Event`). After the commit, messages go to their subscribers (sockets, mail,
webhooks) and facts to theirs (the scheduler). A rollback drops everything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from flask_sqlalchemy.session import Session
from sqlalchemy import event

from loadzone.core import sequence

log = logging.getLogger(__name__)
_FACTS = "loadzone.facts"
_KEY = "loadzone.events"
_TRANSLATORS = "loadzone.translators"
_FACT_SUBSCRIBERS = "loadzone.fact_subscribers"


@dataclass(frozen=True)
class Event:
    """One realtime message: `to` is a user's e-mail for personal events, None for everyone."""

    name: str
    payload: dict
    to: str | None = None
    # Who should also get this by e-mail (never sent to browsers).
    mail_to: str | None = None
    # Given just before the commit (core/sequence.py): this event's number, and the number
    # of the last event for everyone before it, so a browser can tell what it missed.
    seq: int | None = None
    prev: int | None = None


Subscriber = Callable[[Event], None]


def record(session, fact) -> None:
    """Record what happened on the session's transaction."""
    session.info.setdefault(_FACTS, []).append(fact)


def queue(session, event_: Event) -> None:
    """Queue a message on the session's transaction; it is dropped if the transaction rolls back."""
    session.info.setdefault(_KEY, []).append(event_)


def queued(session) -> list[Event]:
    """The messages queued on the session's transaction so far (for translators)."""
    return list(session.info.get(_KEY, []))


def subscribe(app: Flask, subscriber: Subscriber) -> None:
    """Have `subscriber` called with each message after its transaction commits."""
    app.extensions.setdefault(_KEY, []).append(subscriber)


def subscribe_facts(app: Flask, subscriber: Callable) -> None:
    """Have `subscriber` called with each fact after its transaction commits."""
    app.extensions.setdefault(_FACT_SUBSCRIBERS, []).append(subscriber)


def translate(app: Flask, translator: Callable) -> None:
    """Have `translator(session, facts)` run inside each transaction, just before it commits."""
    app.extensions.setdefault(_TRANSLATORS, []).append(translator)


def prepare(session) -> None:
    """Run the translators over the facts recorded so far and number the messages they
    queued (call before committing)."""
    facts = session.info.get(_FACTS)
    if facts:
        for translator in current_app.extensions.get(_TRANSLATORS, []):
            translator(session, list(facts))
    pending = session.info.get(_KEY)
    if pending:
        session.info[_KEY] = sequence.stamp(session, pending)


def _deliver(items, subscribers, what) -> None:
    for item in items:
        for subscriber in subscribers:
            try:
                subscriber(item)
            except Exception:  # one broken channel must not hide the event from the others
                log.exception("subscriber %r failed on %s", subscriber, what(item))


def _publish(session) -> None:
    facts = session.info.pop(_FACTS, [])
    pending = session.info.pop(_KEY, [])
    if not (facts or pending):
        return
    extensions = current_app.extensions
    _deliver(pending, extensions.get(_KEY, []), lambda e: e.name)
    _deliver(facts, extensions.get(_FACT_SUBSCRIBERS, []), lambda f: type(f).__name__)


def tell(app: Flask, fact) -> None:
    """Hand a fact committed in another process to this app's fact subscribers."""
    _deliver([fact], app.extensions.get(_FACT_SUBSCRIBERS, []), lambda f: type(f).__name__)


def _drop(session, *_args) -> None:
    session.info.pop(_KEY, None)
    session.info.pop(_FACTS, None)


def init_app(app: Flask) -> None:
    """Hook the session so queued events follow commits and vanish with rollbacks."""
    app.extensions.setdefault(_KEY, [])
    if not event.contains(Session, "after_commit", _publish):
        event.listen(Session, "after_commit", _publish)
        event.listen(Session, "after_rollback", _drop)
