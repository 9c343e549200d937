"""APScheduler wiring: exact-time start, release and warning jobs derived from the database."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import select

from loadzone.booking import expiry, heartbeats, queue
from loadzone.booking.policies import Rules
from loadzone.core import events
from loadzone.core.facts import BookingFact, BookingView, HeartbeatReceived, QueueChanged
from loadzone.core.storage import transaction
from loadzone.core.timeutil import utcnow
from loadzone.extensions import db
from loadzone.models import HOLDING, Booking, QueueRequest
from loadzone.reporting import rollup

log = logging.getLogger(__name__)


class Planner:
    """Keeps a start, an end and a warning job per booking; the database stays the truth.

    Jobs are hints: each one re-checks the row and claims its work with a conditional
    update, so a stale job, a second instance or the safety sweep can never act twice.
    """

    def __init__(self, app: Flask, sweep_seconds: int = 10):
        self.app = app
        self.rules: Rules = app.extensions["loadzone.rules"]
        self.sweep_seconds = sweep_seconds
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )

    # -- planning -------------------------------------------------------------------------
    def _at(self, kind: str, job, booking_id: int, when) -> None:
        self.scheduler.add_job(
            job,
            "date",
            run_date=when,
            args=[booking_id],
            id=f"{kind}:{booking_id}",
            replace_existing=True,
        )

    def plan(self, booking: BookingView, *, fresh: bool = False) -> None:
        """(Re)schedule the jobs of one booking as its state and times say; `fresh` (start-up,
        nothing planned yet) skips looking for old jobs, a linear scan before the start."""
        if not fresh:
            self.unplan(booking.id)
        if booking.state == "reserved":
            self._at("start", self.start_reservation, booking.id, booking.start)
        elif booking.state == "active":
            # The warning job itself skips bookings already warned (or too short to warn).
            warn_at = max(booking.end - self.rules.lead, utcnow())
            self._at("end", self.release, booking.id, booking.end)
            self._at("warn", self.warn, booking.id, warn_at)
            if booking.idle_at is not None:
                self._at("idle", self.release_idle, booking.id, booking.idle_at)

    def unplan(self, booking_id: int) -> None:
        for prefix in ("start", "end", "warn", "idle"):
            job = self.scheduler.get_job(f"{prefix}:{booking_id}")
            if job is not None:
                job.remove()

    def on_fact(self, fact) -> None:
        """Follow committed changes: every booking fact carries the booking as it now is."""
        if isinstance(fact, HeartbeatReceived):
            self._at("idle", self.release_idle, fact.booking.id, fact.idle_at)
        elif isinstance(fact, BookingFact):
            self.plan(fact.booking)
        elif isinstance(fact, QueueChanged) and fact.what == "joined":
            with self.app.app_context():
                until = db.session.get(QueueRequest, fact.request_id).wait_until
                db.session.remove()
            self._at("expire", self.expire_request, fact.request_id, until)
        elif isinstance(fact, QueueChanged):
            job = self.scheduler.get_job(f"expire:{fact.request_id}")
            if job is not None:
                job.remove()

    # -- the jobs -------------------------------------------------------------------------
    def _claim(self, what: str, use_case, *args) -> None:
        """Run one claiming use case in its own transaction; failures wait for the sweep."""
        with self.app.app_context():
            try:
                with transaction():
                    done = use_case(*args)
            except Exception:
                log.exception("%s failed; the sweep will retry", what)
                return
        if not done:
            log.debug("%s skipped: moved, ended or done elsewhere", what)

    def start_reservation(self, booking_id: int) -> None:
        self._claim(
            f"start of booking {booking_id}", expiry.start_due, booking_id, utcnow(), self.rules
        )

    def release_idle(self, booking_id: int) -> None:
        self._claim(
            f"idle release of booking {booking_id}", heartbeats.release_idle, booking_id, utcnow()
        )

    def expire_request(self, request_id: int) -> None:
        self._claim(f"expiry of queue request {request_id}", queue.expire_due, request_id, utcnow())

    def settle(self) -> None:
        """The safety net of the queue: settle it even if no change asked to."""
        self._claim("settling the queue", _settle_waiting, utcnow(), self.rules)

    def release(self, booking_id: int) -> None:
        self._claim(f"release of booking {booking_id}", expiry.release_due, booking_id, utcnow())

    def warn(self, booking_id: int) -> None:
        # Most warning jobs find nothing to do (short bookings are born warned): look first,
        # and take the write lock only for a warning that is really due.
        with self.app.app_context():
            try:
                due = expiry.warning_due(booking_id, utcnow(), self.rules)
            except Exception:
                log.exception("reading booking %s for its warning failed", booking_id)
                return
            finally:
                db.session.remove()
        if due:
            self._claim(
                f"warning for booking {booking_id}",
                expiry.warn_due,
                booking_id,
                utcnow(),
                self.rules,
            )

    def sweep(self) -> None:
        """Catch what exact jobs missed: overdue releases, due starts and due warnings."""
        with self.app.app_context():
            try:
                now = utcnow()
                overdue = expiry.expired_ids(now)
                idle = heartbeats.idle_ids(now)
                expiring = queue.expiring_ids(now)
                starting = expiry.starting_ids(now)
                due = expiry.warning_due_ids(now, self.rules)
                db.session.remove()
            except Exception:
                log.exception(
                    "sweep could not read the database; retrying in %ss", self.sweep_seconds
                )
                return
        # Releases first: a reservation may begin where an expired booking ends.
        for booking_id in overdue:
            self.release(booking_id)
        for booking_id in idle:
            self.release_idle(booking_id)
        for request_id in expiring:
            self.expire_request(request_id)
        self.settle()
        for booking_id in starting:
            self.start_reservation(booking_id)
        for booking_id in due:
            self.warn(booking_id)

    def roll_usage(self) -> None:
        """Roll up the days that are over (another instance may have done it already)."""
        with self.app.app_context():
            try:
                with transaction():
                    added = rollup.advance(db.session, utcnow())
            except Exception:
                log.exception("usage roll-up failed; the next run tries again")
                return
        if added:
            log.info("usage rolled up for %d more days", added)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Do what fell due while we were down, plan every booking, then run."""
        self.sweep()
        with self.app.app_context():
            rows = db.session.execute(
                select(
                    Booking.id,
                    Booking.vm_id,
                    Booking.owner,
                    Booking.state,
                    Booking.start,
                    Booking.end,
                    Booking.idle_at,
                ).where(Booking.state.in_(HOLDING))
            ).all()
            waiting = db.session.execute(
                select(QueueRequest.id, QueueRequest.wait_until).where(
                    QueueRequest.state == "waiting"
                )
            ).all()
            db.session.remove()
        for row in rows:
            self.plan(BookingView(*row), fresh=True)
        for request_id, until in waiting:
            self._at("expire", self.expire_request, request_id, until)
        self.scheduler.add_job(
            self.sweep,
            "interval",
            seconds=self.sweep_seconds,
            id="sweep",
            next_run_time=utcnow() + timedelta(seconds=self.sweep_seconds),
        )
        # Hourly: a day is rolled up soon after it is over, or once its last booking ends.
        self.scheduler.add_job(
            self.roll_usage, "interval", hours=1, id="usage-rollup", next_run_time=utcnow()
        )
        self.scheduler.start()
        log.info("scheduler started with %d bookings planned", len(rows))

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


def _settle_waiting(now, rules) -> bool:
    if not queue.expiring_ids(now) and not queue.any_waiting():
        return False
    queue.settle(now, rules)
    return True


def start(app: Flask, sweep_seconds: int) -> Planner:
    """Start scheduling in the serving process only."""
    planner = Planner(app, sweep_seconds)
    events.subscribe_facts(app, planner.on_fact)
    planner.start()
    app.extensions["loadzone.planner"] = planner
    return planner
