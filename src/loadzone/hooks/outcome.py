"""A finished hook run: the VM is free (or in maintenance), the people concerned are told."""

from __future__ import annotations

import json
import os
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from loadzone.booking import expiry, slots
from loadzone.core.facts import BookHookFailed, ResetFailed, VmChanged
from loadzone.extensions import db
from loadzone.hooks import runs
from loadzone.hooks.command import Result
from loadzone.hooks.instance import RUN_ID_VARIABLE
from loadzone.inventory import labels as vm_labels
from loadzone.models import Booking, HookRun, Vm

MAX_REASON = 500


def environment(run_id: int) -> tuple[HookRun, dict[str, str]] | None:
    """The run and the environment its hook gets (None: the run or its VM is gone)."""
    run = db.session.get(HookRun, run_id)
    vm = db.session.get(Vm, run.vm_id) if run else None
    if vm is None:
        return None
    booking = db.session.get(Booking, run.booking_id) if run.booking_id else None
    # The server's own settings (database URL, secret key) are none of the hook's business.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOADZONE_")}
    env.update(
        LOADZONE_HOOK=run.kind,
        LOADZONE_VM_ID=vm.id,
        LOADZONE_VM_ADDRESS=vm.address or "",
        LOADZONE_VM_LABELS=json.dumps(vm_labels.of([vm.id]).get(vm.id, {}), sort_keys=True),
        LOADZONE_BOOKING_ID=str(run.booking_id or ""),
        LOADZONE_OWNER=booking.owner if booking else "",
        LOADZONE_END_REASON=(booking.end_reason or "") if run.kind == "release" and booking else "",
    )
    env[RUN_ID_VARIABLE] = str(run.id)
    return run, env


def finish(run_id: int, me: str, result: Result, now: datetime) -> bool:
    """Record how the run ended (once: only its claimer can) and what follows from it."""
    done = db.session.execute(
        update(HookRun)
        .where(HookRun.id == run_id, HookRun.state == runs.RUNNING, HookRun.claimed_by == me)
        .values(
            state=runs.DONE if result.ok else runs.FAILED,
            finished_at=now,
            lease_until=None,
            exit_code=result.exit_code,
            output=result.output,
            outcome=result.failure,
        )
    ).rowcount
    if done != 1:
        return False
    run = db.session.get(HookRun, run_id)
    reason = None if result.ok else f"{run.kind} hook {result.failure}"[:MAX_REASON]
    if run.kind == "release":
        _reset_over(run.vm_id, reason, now)
    elif reason:
        booking = db.session.get(Booking, run.booking_id) if run.booking_id else None
        owner = booking.owner if booking else None
        slots.tell(BookHookFailed(run.vm_id, run.booking_id, owner, reason, now))
    return True


def _reset_over(vm_id: str, reason: str | None, now: datetime) -> None:
    vm = db.session.scalar(select(Vm).where(Vm.id == vm_id).with_for_update())
    if vm is None:
        return
    vm.resetting = False
    if reason:
        vm.maintenance, vm.maintenance_reason = True, reason
        slots.tell(ResetFailed(vm_id, reason, now))
    db.session.flush()
    slots.tell(VmChanged(vm_id, now))
    _start_waiting_reservations(vm_id, now)


def _start_waiting_reservations(vm_id: str, now: datetime) -> None:
    """A reservation that fell due while the VM reset starts now (cancelled if the reset
    failed: the VM is in maintenance)."""
    due = select(Booking.id).where(
        Booking.vm_id == vm_id, Booking.state == "reserved", Booking.start <= now
    )
    rules = current_app.extensions["loadzone.rules"]
    for booking_id in list(db.session.scalars(due.order_by(Booking.start))):
        expiry.start_due(booking_id, now, rules)
