"""`seq` for realtime events, taken from the database in the transaction that causes them.

One counter row rather than a PostgreSQL sequence: the row lock, taken just before the
commit and held until it, makes the numbers follow commit order across instances, and a
rolled-back transaction gives its numbers back. A sequence hands numbers out in the order
transactions ask and keeps them through rollbacks, so a browser could not tell a lost
event from one that never happened. The price: writers that emit take turns for the
moment between this update and their commit.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from loadzone.models import EventCounter

_ROW = EventCounter.id == 1


def _locked(session) -> tuple[int, int]:
    query = select(EventCounter.seq, EventCounter.public_seq).where(_ROW).with_for_update()
    row = session.execute(query).one_or_none()
    if row is None:  # an emptied table: start again from zero, whoever gets here first
        dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
        insert = dialect.insert(EventCounter).values(id=1, seq=0, public_seq=0)
        session.execute(insert.on_conflict_do_nothing())
        row = session.execute(query).one()
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
    session.execute(update(EventCounter).where(_ROW).values(seq=seq, public_seq=public))
    return stamped


def current(session) -> int:
    """The last `seq` given out: a snapshot read after this reflects every event up to it."""
    return session.scalar(select(EventCounter.seq).where(_ROW)) or 0
