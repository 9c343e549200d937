"""Hook runs as rows: written with the booking change, claimed once, renewed while running.

A run is `pending` until an instance claims it with a conditional UPDATE (`running`, its
identity and a lease it renews), then `done` or `failed` (hooks/outcome.py). A release run
keeps its VM `resetting`: nobody can book it or be granted it until the run finishes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from loadzone.core import events
from loadzone.core.facts import BookingStarted, HookRunPlanned
from loadzone.extensions import db
from loadzone.models import HookRun, Vm

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
LEASE = timedelta(seconds=30)


def commands() -> dict[str, tuple[str, ...]]:
    """The configured command of each kind of hook (empty: none)."""
    settings = current_app.extensions["loadzone.settings"]
    return {"release": settings.hook_release, "book": settings.hook_book}


def _add(kind: str, vm_id: str, booking_id: int | None, now: datetime) -> None:
    db.session.add(
        HookRun(
            kind=kind, vm_id=vm_id, booking_id=booking_id, state=PENDING, attempts=0, created_at=now
        )
    )
    events.record(db.session, HookRunPlanned(kind, vm_id))


def plan_release(vm_id: str, booking_id: int, now: datetime) -> bool:
    """A booking of the VM ended: with a release hook, the VM resets before anyone gets it."""
    if not commands()["release"]:
        return False
    _add("release", vm_id, booking_id, now)
    db.session.execute(update(Vm).where(Vm.id == vm_id).values(resetting=True))
    return True


def is_resetting(vm_id: str) -> bool:
    return bool(db.session.scalar(select(Vm.resetting).where(Vm.id == vm_id)))


def translate(_session, recorded: list) -> None:
    """Plan a book hook run for each booking that became active in this transaction."""
    if not commands()["book"]:
        return
    for fact in recorded:
        if isinstance(fact, BookingStarted):
            _add("book", fact.booking.vm_id, fact.booking.id, fact.at)


def claimable(now: datetime, me: str, gone: Callable[[str], bool]) -> list[HookRun]:
    """Runs to claim, oldest first: pending ones, and running ones whose lease ran out or
    whose claimer is known to be gone. A VM's runs go one at a time, in order."""
    unfinished = db.session.scalars(
        select(HookRun).where(HookRun.state.in_((PENDING, RUNNING))).order_by(HookRun.id)
    ).all()
    seen: set[str] = set()
    found = []
    for run in unfinished:
        first = run.vm_id not in seen
        seen.add(run.vm_id)
        if not first:
            continue
        if run.state == PENDING or (
            run.claimed_by != me and (run.lease_until <= now or gone(run.claimed_by))
        ):
            found.append(run)
    db.session.expunge_all()
    return found


def claim(run: HookRun, me: str, now: datetime) -> bool:
    """Take a run as this instance; of two instances trying, one wins."""
    if run.state == PENDING:
        still = HookRun.state == PENDING
    else:
        still = (
            (HookRun.state == RUNNING)
            & (HookRun.claimed_by == run.claimed_by)
            & (HookRun.lease_until == run.lease_until)
        )
    return (
        db.session.execute(
            update(HookRun)
            .where(HookRun.id == run.id, still)
            .values(
                state=RUNNING,
                claimed_by=me,
                lease_until=now + LEASE,
                attempts=HookRun.attempts + 1,
                started_at=now,
                pid=None,
            )
        ).rowcount
        == 1
    )


def renew(run_id: int, me: str, now: datetime, pid: int | None = None) -> bool:
    """Extend this instance's lease (and note the hook's process id); False: lost it."""
    values: dict = {"lease_until": now + LEASE}
    if pid is not None:
        values["pid"] = pid
    return (
        db.session.execute(
            update(HookRun)
            .where(HookRun.id == run_id, HookRun.state == RUNNING, HookRun.claimed_by == me)
            .values(**values)
        ).rowcount
        == 1
    )
