"""Which notification types a person also gets by e-mail.

A notification about one person (personal ones, and a release of their own booking) is
mailed to that person when they want its type. An announcement to everyone is mailed to
the people who switched its type on. Only explicit choices are stored; a missing row
takes the default below.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from loadzone.errors import Invalid
from loadzone.extensions import db
from loadzone.models import MailPreference
from loadzone.notifications.notify import BROADCAST_TYPES, PERSONAL_TYPES

TYPES = tuple(sorted(BROADCAST_TYPES | PERSONAL_TYPES))
MAILED_BY_DEFAULT = frozenset(
    {
        "expiry_warning",
        "vm_auto_released",
        "queue_granted",
        "reservation_started",
        "vm_idle_released",
    }
)


def _scalars(bind, query) -> list:
    """Run a read on a session (inside a transaction) or on an engine (after the commit,
    when the session may no longer run SQL)."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return list(connection.scalars(query))
    return list(bind.scalars(query))


def email_choices(email: str) -> dict[str, bool]:
    """Every notification type with whether the person gets it by e-mail."""
    stored = db.session.execute(
        select(MailPreference.type, MailPreference.wanted).where(MailPreference.user == email)
    )
    choices = {type_: type_ in MAILED_BY_DEFAULT for type_ in TYPES}
    choices.update({type_: wanted for type_, wanted in stored if type_ in choices})
    return choices


def set_email_choices(email: str, changes: dict[str, bool]) -> dict[str, bool]:
    """Change the named types only; an unknown type or a non-boolean changes nothing."""
    unknown = sorted(set(changes) - set(TYPES))
    if unknown:
        raise Invalid(f"Unknown notification type: {', '.join(unknown)}.", "unknown_type")
    if any(not isinstance(wanted, bool) for wanted in changes.values()):
        raise Invalid("Each notification type takes true or false.", "invalid_input")
    for type_, wanted in changes.items():
        db.session.merge(MailPreference(user=email, type=type_, wanted=wanted))
    return email_choices(email)


def mail_wanted(bind, email: str, type_: str) -> bool:
    """Whether `email` wants notifications of `type_` by e-mail."""
    query = select(MailPreference.wanted).where(
        MailPreference.user == email, MailPreference.type == type_
    )
    stored = _scalars(bind, query)
    return stored[0] if stored else type_ in MAILED_BY_DEFAULT


def mail_recipients(bind, type_: str, person: str | None) -> list[str]:
    """Who gets this notification by e-mail: `person` (whom it is about) if they want it,
    or for an announcement to everyone, whoever switched its type on."""
    if person is not None:
        return [person] if mail_wanted(bind, person, type_) else []
    query = select(MailPreference.user).where(
        MailPreference.type == type_, MailPreference.wanted.is_(True)
    )
    return sorted(_scalars(bind, query))
