"""`seq` for realtime events, taken from the database in the transaction that causes them.

One counter row rather than a PostgreSQL sequence: the row lock, taken just before the
commit and held until it, makes the numbers follow commit order across instances, and a
rolled-back transaction gives its numbers back. A sequence hands numbers out in the order
transactions ask and keeps them through rollbacks, so a browser could not tell a lost
event from one that never happened. The price: writers that emit take turns for the
moment between this update and their commit.

The same row counts changes to credentials (a revoked token, ended sessions): one read per
request (`versions`) gives both numbers, so a request can tell whether the board it has and
the token it checked a moment ago are still good without asking for either again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import g, has_request_context
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from loadzone.core import prebuilt
from loadzone.models import EventCounter

_ROW = EventCounter.id == 1
_READ = "SELECT seq, credentials FROM event_counter WHERE id = 1"


@dataclass(frozen=True)
class Versions:
    seq: int  # the last event number given out
    credentials: int  # changes to tokens and sessions so far


def _ensure_row(session) -> None:
    # An emptied table: start again from zero, whoever gets here first.
    dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(EventCounter).values(id=1, seq=0, public_seq=0, credentials=0)
    session.execute(insert.on_conflict_do_nothing())


_LOCK = select(EventCounter.seq, EventCounter.public_seq).where(_ROW).with_for_update()
_MOVE = (
    update(EventCounter.__table__)
    .where(_ROW)
    .values(seq=bindparam("new_seq"), public_seq=bindparam("new_public"))
)


def _locked(session) -> tuple[int, int]:
    row = prebuilt.run(_LOCK).one_or_none()
    if row is None:
        _ensure_row(session)
        row = prebuilt.run(_LOCK).one()
    return row.seq, row.public_seq


def stamp(session, pending: list) -> list:
    """The events numbered in order; each also names the last event for everyone before it."""
    seq, public = _locked(session)
    stamped = []
    for event in pending:
        seq += 1
        stamped.append(replace(event, seq=seq, prev=public))
        if event.to is None:
            public = seq
    prebuilt.run(_MOVE, {"new_seq": seq, "new_public": public})
    return stamped


def versions(session) -> Versions:
    """Both numbers, read once per request (kept on `g`) and on every call outside one.

    A snapshot read after this reflects every event up to `seq`."""
    if has_request_context() and "versions" in g:
        return g.versions
    # Plain SQL on the session's connection: this runs on every request, and the ORM's
    # statement handling cost more than the read itself.
    row = session.connection().exec_driver_sql(_READ).first()
    found = Versions(row.seq, row.credentials) if row is not None else Versions(0, 0)
    if has_request_context():
        g.versions = found
    return found


def credentials_changed(session) -> None:
    """Count a revoked token or ended sessions, in the transaction that makes the change."""
    bump = update(EventCounter).where(_ROW).values(credentials=EventCounter.credentials + 1)
    if not session.execute(bump).rowcount:
        _ensure_row(session)
        session.execute(bump)
