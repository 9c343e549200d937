"""The booking use cases against a plain Python model, over random sequences of actions and
clock moves (Hypothesis stateful testing), on every backend."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
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

from loadzone.booking import bookings
from loadzone.booking.bookings import Rules
from loadzone.core import storage
from loadzone.errors import Conflict, DomainError, Invalid, NotAllowed
from loadzone.extensions import db
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from loadzone.models import Booking as BookingRow
from loadzone.models import ExtendLink, HistoryEntry, Notification, NotificationRead, User, Vm
from tests.unit import due

RULES = Rules(max_hours=24, max_active_bookings=0, warning_minutes=60)
T0 = datetime(2031, 5, 6, 7, 0, tzinfo=UTC)
ALICE = Actor("alice@example.com", is_admin=False, admins_configured=True)
BOB = Actor("bob@example.com", is_admin=False, admins_configured=True)
ADMIN = Actor("admin@example.com", is_admin=True, admins_configured=True)
VMS = ("vm-0", "vm-1", "vm-maint")
EXAMPLES = int(os.environ.get("LOADZONE_MODEL_EXAMPLES", "60"))
STEPS = 40

actors = st.sampled_from([ALICE, BOB, ADMIN])
vm_ids = st.sampled_from(VMS)
# Mostly short bookings and moves around the 60-minute lead time, where the rules meet.
hours = st.one_of(st.integers(1, 3), st.integers(-1, 26))
shifts = st.one_of(st.integers(60, 2 * 3600), st.integers(-600, 30 * 3600), st.integers(1, 600))
ticks = st.one_of(st.integers(1, 900), st.integers(900, 3 * 3600), st.integers(1, 8 * 3600))


@dataclass
class Booking:
    owner: str
    booked_at: datetime
    expires_at: datetime
    warned: bool


def warned_for(expires_at: datetime, now: datetime, booked_at: datetime) -> bool:
    """The spec: a booking no longer than the lead time gets no separate warning."""
    return expires_at - booked_at <= RULES.lead and expires_at - now <= RULES.lead


class BookingModel(RuleBasedStateMachine):
    """What the rules say should happen, step by step, next to what the database holds."""

    app = None  # set by the test
    steps = 0
    seen: Counter = Counter()

    @initialize()
    def fresh(self):
        self.now = T0
        self.vms: dict[str, Booking | None] = dict.fromkeys(VMS)
        self.history: list[tuple] = []
        self.notes: Counter = Counter()
        self.context = self.app.app_context()
        self.context.push()
        with storage.transaction():
            for table in (
                ExtendLink,
                NotificationRead,
                Notification,
                HistoryEntry,
                BookingRow,
                Vm,
                User,
            ):
                db.session.execute(delete(table))
        for vm_id in VMS:
            self.call(catalog.add_vm, ADMIN, T0, vm_id)
        self.call(catalog.edit_vm, ADMIN, "vm-maint", {"maintenance": True})
        self.notes.update({("vm_added", vm_id, None) for vm_id in VMS})
        # Start with bookings: most rules only have work on a booked VM.
        self.book(ALICE, "vm-0", 2)
        self.book(BOB, "vm-1", 3)

    def teardown(self):
        if getattr(self, "context", None) is not None:
            db.session.remove()
            self.context.pop()

    def call(self, use_case, *args):
        """One use case in its own transaction; the domain error it raised, if any."""
        type(self).steps += 1
        try:
            with storage.transaction():
                return use_case(*args)
        except DomainError as error:
            return error

    def pick(self, data) -> str:
        """Mostly a booked VM (where renew, release and the jobs have work), sometimes any."""
        booked = sorted(v for v, b in self.vms.items() if b is not None)
        if booked and data.draw(st.integers(0, 4)):
            return data.draw(st.sampled_from(booked))
        return data.draw(vm_ids)

    def expect(self, outcome, error_type=None, code: str | None = None) -> None:
        if error_type is None:
            assert not isinstance(outcome, DomainError), outcome
        else:
            assert isinstance(outcome, error_type), (outcome, error_type)
            assert code is None or outcome.code == code, (outcome.code, code)

    # -- what people do ---------------------------------------------------------------------
    @rule(actor=actors, vm_id=vm_ids, length=hours)
    def book(self, actor, vm_id, length):
        outcome = self.call(bookings.book, actor, vm_id, length, self.now, RULES)
        if not 1 <= length <= RULES.max_hours:
            return self.expect(outcome, Invalid, "invalid_hours")
        if self.vms[vm_id] is not None:
            return self.expect(outcome, Conflict, "already_booked")
        if vm_id == "vm-maint":
            return self.expect(outcome, Conflict, "in_maintenance")
        self.expect(outcome)
        expires = self.now + timedelta(hours=length)
        warned = warned_for(expires, self.now, self.now)
        self.vms[vm_id] = Booking(actor.email, self.now, expires, warned)
        self.history.append(("book", vm_id, actor.email, actor.email, None, expires))
        self.notes[("vm_booked", vm_id, None)] += 1

    @rule(actor=actors, data=st.data(), length=hours)
    def renew(self, actor, data, length):
        vm_id = self.pick(data)
        outcome = self.call(bookings.renew, actor, vm_id, length, self.now, RULES)
        booking = self.vms[vm_id]
        if not 1 <= length <= RULES.max_hours:
            return self.expect(outcome, Invalid, "invalid_hours")
        if booking is None:
            return self.expect(outcome, Conflict, "not_booked")
        if not (actor.is_admin or actor.email == booking.owner):
            return self.expect(outcome, NotAllowed, "not_owner")
        base = max(booking.expires_at, self.now)
        if base + timedelta(hours=length) > self.now + timedelta(hours=RULES.max_hours):
            return self.expect(outcome, Invalid, "renew_too_long")
        self.expect(outcome)
        booking.expires_at = base + timedelta(hours=length)
        booking.warned = warned_for(booking.expires_at, self.now, booking.booked_at)
        self.history.append(("renew", vm_id, booking.owner, actor.email, None, booking.expires_at))
        self.notes[("vm_renewed", vm_id, None)] += 1

    @rule(actor=actors, data=st.data())
    def release(self, actor, data):
        vm_id = self.pick(data)
        outcome = self.call(bookings.release, actor, vm_id, self.now)
        booking = self.vms[vm_id]
        if booking is None:
            return self.expect(outcome, Conflict, "not_booked")
        if not (actor.is_admin or actor.email == booking.owner):
            return self.expect(outcome, NotAllowed, "not_owner")
        self.expect(outcome)
        reason = "manual" if actor.email == booking.owner else "admin"
        self.history.append(("release", vm_id, booking.owner, actor.email, reason, None))
        self.notes[("vm_released", vm_id, None)] += 1
        self.vms[vm_id] = None

    @rule(actor=st.sampled_from([ADMIN, ADMIN, ALICE]), data=st.data(), seconds=shifts)
    def override(self, actor, data, seconds):
        vm_id = self.pick(data)
        expires = self.now + timedelta(seconds=seconds)
        outcome = self.call(bookings.override_expiry, actor, vm_id, expires, self.now, RULES)
        booking = self.vms[vm_id]
        if not actor.is_admin:
            return self.expect(outcome, NotAllowed, "admin_only")
        if seconds <= 0:
            return self.expect(outcome, Invalid, "invalid_expires_at")
        if booking is None:
            return self.expect(outcome, Conflict, "not_booked")
        self.expect(outcome)
        booking.expires_at, booking.warned = expires, False
        self.history.append(("renew", vm_id, booking.owner, actor.email, "admin", expires))

    # -- time and the scheduler -------------------------------------------------------------
    @rule(seconds=ticks)
    def clock(self, seconds):
        self.now += timedelta(seconds=seconds)

    def _model_release(self, vm_id) -> bool:
        booking = self.vms[vm_id]
        if booking is None or booking.expires_at > self.now:
            return False
        self.history.append(("release", vm_id, booking.owner, None, "expired", None))
        self.notes[("vm_auto_released", vm_id, None)] += 1
        type(self).seen["auto-releases"] += 1
        self.vms[vm_id] = None
        return True

    def _model_warn(self, vm_id) -> str | None:
        booking = self.vms[vm_id]
        if booking is None or booking.warned:
            return None
        if not self.now < booking.expires_at <= self.now + RULES.lead:
            return None
        booking.warned = True
        self.notes[("expiry_warning", vm_id, booking.owner)] += 1
        type(self).seen["warnings"] += 1
        return booking.owner

    @rule(data=st.data())
    def release_job(self, data):
        vm_id = self.pick(data)
        """An exact release job, possibly stale or repeated: it acts only when due."""
        assert self.call(due.release_due, vm_id, self.now) == self._model_release(vm_id)

    @rule(data=st.data())
    def warn_job(self, data):
        vm_id = self.pick(data)
        """An exact warning job, possibly stale or repeated: it warns once per timing."""
        assert self.call(due.warn_due, vm_id, self.now, RULES) == self._model_warn(vm_id)

    @rule()
    def sweep(self):
        """The safety sweep: every overdue release, then every due warning."""
        with storage.transaction():
            overdue = due.expired_ids(self.now)
            warnings = due.warning_due_ids(self.now, RULES)
        assert sorted(overdue) == sorted(
            v for v, b in self.vms.items() if b is not None and b.expires_at <= self.now
        )
        for vm_id in overdue:
            assert self.call(due.release_due, vm_id, self.now) is self._model_release(vm_id)
        for vm_id in warnings:
            warned = self.call(due.warn_due, vm_id, self.now, RULES)
            assert warned == self._model_warn(vm_id)

    # -- what must always hold --------------------------------------------------------------
    @invariant()
    def database_matches_model(self):
        db.session.expire_all()
        for vm in db.session.scalars(select(Vm)):
            booking = self.vms[vm.id]
            if booking is None:
                assert (vm.booked_by, vm.expires_at) == (None, None), vm.id
            else:
                found = (vm.booked_by, vm.expires_at, vm.active.warned)
                assert found == (booking.owner, booking.expires_at, booking.warned), vm.id
        rows = db.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id))
        found = [(h.action, h.vm_id, h.user, h.actor, h.reason, h.end) for h in rows]
        assert found == self.history
        notes = Counter(
            (n.type, n.vm_id, n.recipient) for n in db.session.scalars(select(Notification))
        )
        assert notes == self.notes
        db.session.commit()


def test_use_cases_follow_the_model(app, backend):
    BookingModel.app = app
    BookingModel.steps = 0
    BookingModel.seen = Counter()
    run_state_machine_as_test(
        BookingModel,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    seen = BookingModel.seen
    print(
        f"model[{backend}]: {EXAMPLES} random sequences, {BookingModel.steps} use-case calls "
        f"({seen['warnings']} warnings, {seen['auto-releases']} auto-releases), "
        "database = model after every step"
    )
    assert seen["warnings"] and seen["auto-releases"]
