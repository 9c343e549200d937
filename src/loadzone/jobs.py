"""APScheduler wiring: exact-time release and warning jobs derived from the database."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import select

from . import bookings, events
from .extensions import db
from .models import Vm
from .storage import transaction
from .timeutil import parse_iso, utcnow

log = logging.getLogger(__name__)


class Planner:
    """Keeps one release job and one warning job per booking; the database stays the truth.

    Jobs are hints: each one re-checks the row and claims its work with a conditional
    update, so a stale job, a second instance or the safety sweep can never act twice.
    """

    def __init__(self, app: Flask, sweep_seconds: int = 10):
        self.app = app
        self.rules: bookings.Rules = app.extensions["loadzone.rules"]
        self.sweep_seconds = sweep_seconds
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )

    # -- planning -------------------------------------------------------------------------
    def plan(self, vm_id: str, expires_at) -> None:
        """(Re)schedule the jobs of one booking; no expiry removes them."""
        if expires_at is None:
            self.unplan(vm_id)
            return
        # The warning job itself skips bookings already warned (or too short to warn).
        warn_at = max(expires_at - self.rules.lead, utcnow())
        for kind, job, when in (
            ("release", self.release, expires_at),
            ("warn", self.warn, warn_at),
        ):
            self.scheduler.add_job(
                job,
                "date",
                run_date=when,
                args=[vm_id],
                id=f"{kind}:{vm_id}",
                replace_existing=True,
            )

    def unplan(self, vm_id: str) -> None:
        for prefix in ("release", "warn"):
            job = self.scheduler.get_job(f"{prefix}:{vm_id}")
            if job is not None:
                job.remove()

    def on_event(self, event: events.Event) -> None:
        """Follow committed changes: every vm_updated carries the current expiry."""
        if event.name == "vm_updated":
            expires = event.payload.get("expires_at")
            self.plan(event.payload["id"], parse_iso(expires) if expires else None)
        elif event.name == "vm_deleted":
            self.unplan(event.payload["id"])

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
            log.debug("%s skipped: renewed, released or done elsewhere", what)

    def release(self, vm_id: str) -> None:
        self._claim(f"release of {vm_id}", bookings.release_due, vm_id, utcnow())

    def warn(self, vm_id: str) -> None:
        # Most warning jobs find nothing to do (short bookings are born warned): look first,
        # and take the write lock only for a warning that is really due.
        with self.app.app_context():
            try:
                due = bookings.warning_due(vm_id, utcnow(), self.rules)
            except Exception:
                log.exception("reading %s for its warning failed; the sweep will retry", vm_id)
                return
            finally:
                db.session.remove()
        if due:
            self._claim(f"warning for {vm_id}", bookings.warn_due, vm_id, utcnow(), self.rules)

    def sweep(self) -> None:
        """Catch what exact jobs missed: overdue releases and due warnings."""
        with self.app.app_context():
            try:
                now = utcnow()
                overdue = bookings.expired_ids(now)
                due = bookings.warning_due_ids(now, self.rules)
                db.session.remove()
            except Exception:
                log.exception(
                    "sweep could not read the database; retrying in %ss", self.sweep_seconds
                )
                return
        for vm_id in overdue:
            self.release(vm_id)
        for vm_id in due:
            self.warn(vm_id)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Release what expired while we were down, plan every booking, then run."""
        self.sweep()
        with self.app.app_context():
            rows = db.session.execute(
                select(Vm.id, Vm.expires_at).where(Vm.expires_at.is_not(None))
            ).all()
            db.session.remove()
        for vm_id, expires_at in rows:
            self.plan(vm_id, expires_at)
        self.scheduler.add_job(
            self.sweep,
            "interval",
            seconds=self.sweep_seconds,
            id="sweep",
            next_run_time=utcnow() + timedelta(seconds=self.sweep_seconds),
        )
        self.scheduler.start()
        log.info("scheduler started with %d bookings planned", len(rows))

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


def start(app: Flask, sweep_seconds: int) -> Planner:
    """Start scheduling in the serving process only."""
    planner = Planner(app, sweep_seconds)
    events.subscribe(app, planner.on_event)
    planner.start()
    app.extensions["loadzone.planner"] = planner
    return planner
