"""Reading the audit history: everyone's, or one person's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select

from loadzone.core.timeutil import as_utc
from loadzone.extensions import db
from loadzone.models import HistoryEntry
from loadzone.serialize import history_dict


def _anchor(before_id: int):
    """(id, at) of the record a cursor names, or of the one below an id never given out."""
    return db.session.execute(
        select(HistoryEntry.id, HistoryEntry.at)
        .where(HistoryEntry.id <= before_id)
        .order_by(HistoryEntry.id.desc())
        .limit(1)
    ).first()


def _older_than(anchor, before_id: int):
    """Records after `anchor` in newest-first (at, id) order. Spelt `at <= x AND (at < x OR
    id < y)` rather than as a row comparison so that every engine reads an index range."""
    same_instant = HistoryEntry.id < anchor.id
    if anchor.id != before_id:
        same_instant = HistoryEntry.id <= anchor.id
    return and_(HistoryEntry.at <= anchor.at, or_(HistoryEntry.at < anchor.at, same_instant))


def page(
    limit: int,
    before_id: int | None = None,
    *,
    vm_id: str | None = None,
    user: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[dict], int | None]:
    """A page of audit records, newest first, and the id to continue before (or None).

    Newest first means by `at`, then `id`: every selective filter has an index ending in
    (at, id), so a page is one backward index range that stops after `limit` rows.
    """
    anchor = None
    if before_id is not None:
        anchor = _anchor(before_id)
        if anchor is None:
            return [], None
    # Plain rows: ORM objects would only be read once, and cost more than the query.
    query = select(HistoryEntry.__table__)
    if vm_id:
        query = query.where(HistoryEntry.vm_id == vm_id)
    if user:
        query = query.where(HistoryEntry.user == user.lower())
    if action:
        query = query.where(HistoryEntry.action == action)
    if since:
        query = query.where(HistoryEntry.at >= since)
    # A cursor older than `until` already bounds the range: give the planner one upper bound.
    if until and (anchor is None or as_utc(until) <= anchor.at):
        query = query.where(HistoryEntry.at < until)
    if anchor is not None:
        query = query.where(_older_than(anchor, before_id))
    query = query.order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc()).limit(limit + 1)
    rows = db.session.execute(query).all()
    next_id = rows[limit - 1].id if len(rows) > limit else None
    return [history_dict(row) for row in rows[:limit]], next_id
