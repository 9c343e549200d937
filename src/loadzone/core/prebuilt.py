"""Statements on the busiest paths, built once and run on the transaction's own connection.

Every booking runs about fifteen statements. Building one with the ORM and sending it
through the session costs SQLAlchemy 0.1-0.25 ms of CPU, several times what SQLite spends
answering it; a Core statement built once at import and run on the connection costs about
0.06 ms. Under SQLite's single write lock that time is also time other writers wait
(docs/performance.md, "Statements built once on the write path").
"""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.engine import CursorResult

from loadzone.extensions import db


def ids():
    """The list parameter `ids` for `column.in_(...)`, expanded when the statement runs."""
    return bindparam("ids", expanding=True)


def run(statement, params: dict | list | None = None) -> CursorResult:
    """Run a Core statement in the current transaction, after the ORM's pending changes
    (the session's own execute would write those out first too)."""
    session = db.session()
    session.flush()
    return session.connection().execute(statement, params)
