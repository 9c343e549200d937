"""The delivery outbox: one row per e-mail or webhook post, claimed, sent once, retried.

Rows are written in the transaction of the change that causes them, so a delivery exists
exactly when its change committed. Workers claim a due row with a lease (a conditional
UPDATE; on PostgreSQL after `FOR UPDATE SKIP LOCKED`), so two instances never send it at
the same time, and a worker killed mid-send leaves the row to be claimed again once the
lease runs out.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, update

from loadzone.errors import Conflict, Invalid, NotFound
from loadzone.extensions import db
from loadzone.models import Delivery

CHANNELS = ("mail", "webhook")
STATES = ("pending", "sent", "failed")
# Longer than the slowest attempt (SMTP and HTTP time out after 10 s).
LEASE = timedelta(seconds=60)
MAX_DELAY = timedelta(minutes=15)
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for one attempt."""

    id: int
    channel: str
    target: str
    payload: dict
    key: str
    attempts: int
    give_up_at: datetime
    lease_until: datetime


def add(
    channel: str, target: str, payload: dict, now: datetime, hours: int, notification_id=None
) -> None:
    """Queue one delivery in the current transaction, due at once, tried for `hours`."""
    assert channel in CHANNELS, channel
    db.session.execute(
        insert(Delivery).values(
            channel=channel,
            notification_id=notification_id,
            target=target,
            payload=json.dumps(payload, separators=(",", ":")),
            key=uuid.uuid4().hex,
            state="pending",
            attempts=0,
            next_at=now,
            give_up_at=now + timedelta(hours=hours),
            created_at=now,
        )
    )


def _due(now: datetime):
    return (
        select(Delivery.id)
        .where(
            Delivery.state == "pending",
            Delivery.next_at <= now,
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until <= now),
        )
        .order_by(Delivery.next_at, Delivery.id)
        .limit(1)
    )


def claim(now: datetime) -> Claimed | None:
    """Take the next due delivery for one attempt (call inside a transaction)."""
    query = _due(now)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    delivery_id = db.session.scalar(query)
    if delivery_id is None:
        return None
    lease_until = now + LEASE
    won = db.session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.state == "pending",
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until <= now),
        )
        .values(claimed_until=lease_until, attempts=Delivery.attempts + 1)
    ).rowcount
    if won != 1:
        return None
    row = db.session.get(Delivery, delivery_id, populate_existing=True)
    return Claimed(
        row.id,
        row.channel,
        row.target,
        json.loads(row.payload),
        row.key,
        row.attempts,
        row.give_up_at,
        lease_until,
    )


def _mine(item: Claimed):
    """Only the holder of the lease records the outcome of its attempt."""
    return update(Delivery).where(
        Delivery.id == item.id,
        Delivery.state == "pending",
        Delivery.claimed_until == item.lease_until,
    )


def sent(item: Claimed, now: datetime) -> None:
    db.session.execute(_mine(item).values(state="sent", sent_at=now, claimed_until=None))


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s … doubling per attempt, at most 15 minutes."""
    return min(timedelta(seconds=2 ** min(attempts - 1, 20)), MAX_DELAY)


def retry_or_fail(item: Claimed, error: str, now: datetime, final: bool = False) -> str:
    """Schedule the next attempt, or fail the delivery once its time is up (or `final`)."""
    next_at = now + backoff(item.attempts)
    give_up = final or next_at > item.give_up_at
    outcome = {"state": "failed"} if give_up else {"next_at": next_at}
    db.session.execute(_mine(item).values(claimed_until=None, last_error=error[:1000], **outcome))
    return "failed" if give_up else "pending"


def next_due() -> datetime | None:
    """When the earliest pending delivery falls due (for the worker's sleep)."""
    return db.session.scalar(select(func.min(Delivery.next_at)).where(Delivery.state == "pending"))


def failed_count() -> int:
    return db.session.scalar(select(func.count()).where(Delivery.state == "failed")) or 0


def listing(state: str, limit: int, before_id: int | None) -> tuple[list[Delivery], int | None]:
    """A page of deliveries in one state, newest first."""
    if state not in STATES:
        raise Invalid(f"state is one of {', '.join(STATES)}.", "invalid_state")
    query = select(Delivery).where(Delivery.state == state)
    if before_id is not None:
        query = query.where(Delivery.id < before_id)
    rows = list(db.session.scalars(query.order_by(Delivery.id.desc()).limit(limit + 1)))
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


def retry(delivery_id: int, now: datetime, hours: int) -> Delivery:
    """Send a failed delivery again from now, with a fresh retry period and the same key."""
    row = db.session.get(Delivery, delivery_id) if 0 < delivery_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"There is no delivery {delivery_id}.", "delivery_not_found")
    done = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.state == "failed")
        .values(
            state="pending",
            next_at=now,
            give_up_at=now + timedelta(hours=hours),
            attempts=0,
            claimed_until=None,
        )
    ).rowcount
    if done != 1:
        raise Conflict(f"Delivery {delivery_id} has not failed.", "not_failed")
    db.session.refresh(row)
    return row
