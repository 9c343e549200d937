"""What the database holds right now, for /metrics: one cheap query per figure.

Read at scrape time, so every instance and process reports the same, correct figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from loadzone.extensions import db
from loadzone.models import Booking, Delivery, HookRun, QueueRequest


@dataclass(frozen=True)
class Figures:
    bookings: dict[str, int]  # active, reserved
    waiting: int
    oldest_wait_s: float  # 0 when nobody waits
    deliveries: dict[str, int]  # pending, failed
    hook_runs: dict[tuple[str, str], int]  # (kind, state) -> runs


def _count_by_state(model, states: tuple[str, ...]) -> dict[str, int]:
    rows = db.session.execute(
        select(model.state, func.count()).where(model.state.in_(states)).group_by(model.state)
    ).all()
    counted = dict.fromkeys(states, 0)
    counted.update({state: count for state, count in rows})
    return counted


def read(now: datetime) -> Figures:
    """The figures as of `now`: four queries, the first three along indexes."""
    waiting, oldest = db.session.execute(
        select(func.count(), func.min(QueueRequest.created_at)).where(
            QueueRequest.state == "waiting"
        )
    ).one()
    runs = db.session.execute(
        select(HookRun.kind, HookRun.state, func.count()).group_by(HookRun.kind, HookRun.state)
    ).all()
    return Figures(
        bookings=_count_by_state(Booking, ("active", "reserved")),
        waiting=waiting,
        oldest_wait_s=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        deliveries=_count_by_state(Delivery, ("pending", "failed")),
        hook_runs={(kind, state): count for kind, state, count in runs},
    )
