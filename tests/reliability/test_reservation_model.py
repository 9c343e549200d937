"""Random sequences of book, reserve, renew, release, cancel, move and time passing.

After every step: no two reserved or active bookings of a VM overlap, each VM's holder is
its one active booking, nothing due is left undone after the sweep, and a reservation is
refused for overlap exactly when its slot overlapped a booking before.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select

from loadzone.booking import bookings, expiry, reservations
from loadzone.booking.policies import Rules
from loadzone.core import storage
from loadzone.errors import Conflict, DomainError
from loadzone.extensions import db
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from loadzone.models import HOLDING, Booking, HistoryEntry, Notification, NotificationRead, User, Vm

RULES = Rules(max_hours=6, reserve_days=2)
T0 = datetime(2031, 7, 1, 9, 0, tzinfo=UTC)
PEOPLE = [Actor(f"{n}@example.com", admins_configured=True) for n in ("ann", "ben")]
ADMIN = Actor("root@example.com", is_admin=True, admins_configured=True)
VMS = ("vm-0", "vm-1")
EXAMPLES = int(os.environ.get("LOADZONE_MODEL_EXAMPLES", "60"))

actors = st.sampled_from([*PEOPLE, ADMIN])
vm_ids = st.sampled_from(VMS)
hours = st.integers(1, 6)
minutes = st.integers(0, 12 * 60)


class ReservationModel(RuleBasedStateMachine):
    app = None  # set by the test
    steps = 0

    @initialize()
    def fresh(self):
        self.now = T0
        self.context = self.app.app_context()
        self.context.push()
        with storage.transaction():
            for table in (NotificationRead, Notification, HistoryEntry, Booking, Vm, User):
                db.session.execute(delete(table))
        for vm_id in VMS:
            self.call(catalog.add_vm, ADMIN, T0, vm_id)

    def teardown(self):
        if getattr(self, "context", None) is not None:
            db.session.remove()
            self.context.pop()

    def call(self, use_case, *args, **kwargs):
        type(self).steps += 1
        try:
            with storage.transaction():
                return use_case(*args, **kwargs)
        except DomainError as error:
            return error

    def holding(self, vm_id: str) -> list[Booking]:
        db.session.expire_all()
        query = select(Booking).where(Booking.vm_id == vm_id, Booking.state.in_(HOLDING))
        return list(db.session.scalars(query))

    def some_booking(self, data) -> int | None:
        ids = list(db.session.scalars(select(Booking.id)))
        return data.draw(st.sampled_from(ids)) if ids else None

    # -- what people do ---------------------------------------------------------------------
    @rule(actor=actors, vm_id=vm_ids, length=hours)
    def book(self, actor, vm_id, length):
        self.call(bookings.book, actor, vm_id, length, self.now, RULES)

    @rule(actor=actors, vm_id=vm_ids, ahead=minutes, length=hours)
    def reserve(self, actor, vm_id, ahead, length):
        start = self.now + timedelta(minutes=ahead)
        end = start + timedelta(hours=length)
        overlapped = any(b.start < end and b.end > start for b in self.holding(vm_id))
        outcome = self.call(reservations.reserve, actor, vm_id, start, length, self.now, RULES)
        if overlapped:
            assert isinstance(outcome, Conflict) and outcome.code == "not_available", outcome
        else:
            assert not isinstance(outcome, DomainError), outcome

    @rule(actor=actors, vm_id=vm_ids, length=hours)
    def renew(self, actor, vm_id, length):
        self.call(bookings.renew, actor, vm_id, length, self.now, RULES)

    @rule(actor=actors, vm_id=vm_ids)
    def release(self, actor, vm_id):
        self.call(bookings.release, actor, vm_id, self.now)

    @rule(actor=actors, data=st.data())
    def cancel(self, actor, data):
        booking_id = self.some_booking(data)
        if booking_id is not None:
            self.call(reservations.withdraw, actor, booking_id, self.now)

    @rule(actor=actors, data=st.data(), shift=st.integers(-180, 180), stretch=st.integers(-2, 2))
    def move(self, actor, data, shift, stretch):
        booking_id = self.some_booking(data)
        if booking_id is None:
            return
        booking = db.session.get(Booking, booking_id)
        start = booking.start + timedelta(minutes=shift)
        end = booking.end + timedelta(minutes=shift, hours=stretch)
        if booking.state == "active":
            start = None
        self.call(reservations.move, actor, booking_id, self.now, RULES, start=start, end=end)

    @rule(seconds=st.one_of(st.integers(1, 600), st.integers(600, 6 * 3600)))
    def time_passes(self, seconds):
        """Time moves on and the sweep does what fell due: releases first, then starts."""
        self.now += timedelta(seconds=seconds)
        for booking_id in expiry.expired_ids(self.now):
            self.call(expiry.release_due, booking_id, self.now)
        for booking_id in expiry.starting_ids(self.now):
            self.call(expiry.start_due, booking_id, self.now, RULES)

    # -- what must always hold --------------------------------------------------------------
    @invariant()
    def no_overlap_and_one_holder(self):
        db.session.expire_all()
        rows = {row.id: row for row in catalog.list_vms()}
        for vm_id in VMS:
            spans = sorted((b.start, b.end, b.state, b.id) for b in self.holding(vm_id))
            for (_s1, e1, *_), (s2, *_rest) in zip(spans, spans[1:], strict=False):
                assert s2 >= e1, (vm_id, spans)
            active = [s for s in spans if s[2] == "active"]
            assert len(active) <= 1, active
            row = rows[vm_id]
            if active:
                start, end, _state, booking_id = active[0]
                assert (row.booking_id, row.expires_at, row.booked_at) == (booking_id, end, start)
                assert start <= self.now
            else:
                assert (row.booking_id, row.booked_by, row.expires_at) == (None, None, None)
        db.session.commit()


def test_bookings_never_overlap_and_the_holder_is_the_active_booking(app, backend):
    ReservationModel.app = app
    ReservationModel.steps = 0
    run_state_machine_as_test(
        ReservationModel,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=40,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert ReservationModel.steps > EXAMPLES * 10
