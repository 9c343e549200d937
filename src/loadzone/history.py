"""Reading the audit history: everyone's, or one person's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .extensions import db
from .models import HistoryEntry
from .serialize import history_dict


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
    """A page of audit records, newest first, and the id to continue before (or None)."""
    query = select(HistoryEntry)
    if vm_id:
        query = query.where(HistoryEntry.vm_id == vm_id)
    if user:
        query = query.where(HistoryEntry.user == user.lower())
    if action:
        query = query.where(HistoryEntry.action == action)
    if since:
        query = query.where(HistoryEntry.at >= since)
    if until:
        query = query.where(HistoryEntry.at < until)
    if before_id is not None:
        query = query.where(HistoryEntry.id < before_id)
    rows = list(db.session.scalars(query.order_by(HistoryEntry.id.desc()).limit(limit + 1)))
    next_id = rows[limit - 1].id if len(rows) > limit else None
    return [history_dict(row) for row in rows[:limit]], next_id
