"""A simulated day of the queue through the real use cases on a fake clock.

Seeded random arrivals of 1- and 3-VM requests (some for any VM of the pool, some for the
`fast` ones only) with random hold times. Afterwards: every request was granted (nobody
starves), no grant gave a VM that an older, still waiting request could use (first come,
first served among requests competing for the same VMs), and no VM was ever in two bookings.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from loadzone.booking import bookings, claims, expiry
from loadzone.booking.policies import Rules
from loadzone.booking.pools import Target
from loadzone.core import storage
from loadzone.extensions import db
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from loadzone.models import Booking, QueueRequest

T0 = datetime(2032, 2, 1, 8, 0, tzinfo=UTC)
ADMIN = Actor("admin@example.com", is_admin=True, admins_configured=True)
RULES = Rules(max_hours=4, max_waiting=50)
POOL = [f"sim-{n}" for n in range(6)]
FAST = set(POOL[:3])


def run(use_case, *args):
    with storage.transaction():
        return use_case(*args)


class Day:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.now = T0
        self.releases: list[tuple[datetime, int, str]] = []  # (when, booking id, owner)
        self.granted_at: dict[int, datetime] = {}

    def arrive(self, index: int) -> None:
        person = Actor(f"p{index % 7}@example.com", admins_configured=True)
        fast = self.rng.random() < 0.3
        target = Target(group=1, labels={"speed": "fast"} if fast else {})
        count = 1 if fast else self.rng.choice([1, 1, 3])
        ask = claims.Ask(target, hours=4, count=count, wait=True, wait_minutes=1440)
        made, _ = run(claims.request, person, ask, self.now, RULES)
        self.schedule(made)

    def schedule(self, made: list[Booking]) -> None:
        for booking in made:
            hold = timedelta(minutes=self.rng.randint(5, 150))
            self.releases.append((self.now + hold, booking.id, booking.owner))

    def step_to(self, moment: datetime) -> None:
        """Release what is due up to `moment`, in time order, collecting new grants."""
        while True:
            due = sorted(r for r in self.releases if r[0] <= moment)
            if not due:
                break
            when, booking_id, owner = due[0]
            self.releases.remove(due[0])
            self.now = when
            before = set(db.session.scalars(select(Booking.id)))
            booking = db.session.get(Booking, booking_id)
            if booking.state == "active":
                run(bookings.release, Actor(owner, admins_configured=True), booking.vm_id, when)
            db.session.expire_all()
            fresh = db.session.scalars(select(Booking).where(Booking.id.not_in(before))).all()
            self.schedule(list(fresh))
        self.now = moment
        for booking_id in expiry.expired_ids(moment):  # nobody holds past 4 h, but be safe
            run(expiry.release_due, booking_id, moment)


def members(request: QueueRequest) -> set[str]:
    return FAST if "fast" in (request.labels or "") else set(POOL)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_simulated_day_is_fair_and_never_double_books(app, backend, seed):
    with app.app_context():
        with storage.transaction():
            db.session.execute(delete(Booking))
            db.session.execute(delete(QueueRequest))
        group = run(catalog.create_group, ADMIN, T0, "Sim")
        assert group.id == 1
        for vm_id in POOL:
            labels = {"speed": "fast"} if vm_id in FAST else {}
            run(catalog.add_vm, ADMIN, T0, vm_id, group.id, None, labels)
        day = Day(seed)
        moment = T0
        for index in range(60):
            moment += timedelta(minutes=day.rng.randint(1, 20))
            day.step_to(moment)
            day.arrive(index)
        day.step_to(moment + timedelta(days=1))
        check(db.session)
        db.session.remove()


def check(session) -> None:
    session.expire_all()
    requests = session.scalars(select(QueueRequest).order_by(QueueRequest.id)).all()
    everything = session.scalars(select(Booking)).all()
    # Nobody starves: every request that queued was granted.
    assert requests and all(r.state == "granted" for r in requests), [
        (r.id, r.state) for r in requests if r.state != "granted"
    ]
    # The day had contention: many requests had to wait.
    waited = [r for r in requests if r.granted_at > r.created_at]
    assert len(waited) >= 10, len(waited)
    # No VM in two bookings at once.
    for vm_id in POOL:
        spans = sorted((b.start, b.ended_at or b.end) for b in everything if b.vm_id == vm_id)
        for (_s1, e1), (s2, _e2) in zip(spans, spans[1:], strict=False):
            assert s2 >= e1, (vm_id, spans)
    # First come, first served among requests competing for the same VMs: no booking, queued
    # or granted at once, took a VM that an older request still waiting could use.
    created = {r.id: r.created_at for r in requests}
    for booking in everything:
        # A queued grant asked when its request joined; a grant at once, when it was made.
        asked = created.get(booking.request_id, booking.start)
        for older in requests:
            if older.created_at < asked and booking.start < older.granted_at:
                assert booking.vm_id not in members(older), (
                    f"booking {booking.id} took {booking.vm_id} at {booking.start} while "
                    f"request {older.id} waited for it"
                )
