"""The invariants of a crash run, checked on the database as it is: nothing acknowledged
lost, one owner at a time, state = last audit record, notifications with their records,
no booking released or warned more than the rules allow."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from loadzone.config import database_url
from loadzone.core.timeutil import parse_iso
from loadzone.models import Booking, HistoryEntry, Notification, Vm


@dataclass
class Attempt:
    """One write sent to the server, and what (if anything) came back."""

    kind: str  # book | renew | release | override | force_release
    vm_id: str
    actor: str
    started: float
    ended: float = math.inf  # inf: the outcome may still change (a timed-out request)
    status: int | None = None  # None: no answer, the server died under it
    body: dict | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status == 200

    @property
    def refused(self) -> bool:
        """A definite 4xx answer: the request changed nothing."""
        return self.status is not None and 400 <= self.status < 500

    @property
    def uncertain(self) -> bool:
        return not (self.acknowledged or self.refused)


@dataclass
class Report:
    """The figures of a run and every broken invariant found."""

    kills: int = 0
    startup_kills: int = 0
    attempts: int = 0
    acknowledged: int = 0
    uncertain: int = 0
    statuses: Counter = field(default_factory=Counter)
    overdue_at_restart: int = 0
    auto_released: int = 0
    warnings: int = 0
    bookings: int = 0
    checked_final: int = 0
    lost: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self, label: str) -> str:
        return (
            f"{label}: {self.kills} kills ({self.startup_kills} while starting), "
            f"{self.acknowledged} acknowledged writes "
            f"({self.attempts} sent, {self.uncertain} cut off), {self.lost} lost, "
            f"{self.checked_final} VMs exactly as their last answer said, "
            f"{self.bookings} bookings, {self.auto_released} auto-released, "
            f"{self.warnings} warnings, {self.overdue_at_restart} overdue released at start-up, "
            f"{len(self.problems)} invariant violations, {self.seconds:.0f} s"
        )


# -- reading the database ---------------------------------------------------------------------

# Each VM and its holder (the owner of its active booking), for raw sqlite3 reads.
HOLDERS = (
    "SELECT v.id, b.owner FROM vms v "
    "LEFT JOIN bookings b ON b.vm_id = v.id AND b.state = 'active' ORDER BY v.id"
)


class Database:
    """Direct reads of the server's database, from outside the server."""

    def __init__(self, url: str):
        self.engine = create_engine(database_url(url, None), poolclass=NullPool)

    def vms(self, prefix: str) -> dict[str, dict]:
        """Each VM with its holder read from its active booking."""
        active = (Booking.vm_id == Vm.id) & (Booking.state == "active")
        query = (
            select(Vm.id, Booking.owner.label("booked_by"), Booking.end.label("expires_at"))
            .outerjoin(Booking, active)
            .where(Vm.id.startswith(prefix))
        )
        with self.engine.connect() as conn:
            return {row["id"]: dict(row) for row in conn.execute(query).mappings()}

    def history(self, prefix: str) -> list[dict]:
        table = HistoryEntry.__table__
        query = select(table).where(table.c.vm_id.startswith(prefix)).order_by(table.c.id)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def notifications(self, prefix: str) -> list[dict]:
        table = Notification.__table__
        query = select(table).where(table.c.vm_id.startswith(prefix)).order_by(table.c.id)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def overdue(self, prefix: str, now: datetime) -> set[str]:
        """VMs still booked although their expiry has passed."""
        return {
            vm_id
            for vm_id, vm in self.vms(prefix).items()
            if vm["booked_by"] and vm["expires_at"] <= now
        }

    def next_expiry(self, prefix: str) -> datetime:
        """The soonest expiry of a current booking (far ahead when nothing is booked)."""
        expiries = [vm["expires_at"] for vm in self.vms(prefix).values() if vm["expires_at"]]
        return min(expiries, default=datetime.now(UTC) + timedelta(days=1))

    def close(self) -> None:
        self.engine.dispose()


# -- the invariants ---------------------------------------------------------------------------

RETIMING = {"book", "renew"}
NOTE_FOR = {  # which notification each kind of history record comes with, in one transaction
    ("book", None): "vm_booked",
    ("renew", None): "vm_renewed",
    ("release", "manual"): "vm_released",
    ("release", "admin"): "vm_released",
    ("release", "expired"): "vm_auto_released",
}


def check_history(vm_id: str, entries: list[dict], vm: dict, report: Report) -> list[list[dict]]:
    """One owner at a time, releases only of a live booking, state = last record."""
    owner = None
    bookings: list[list[dict]] = []
    for entry in entries:
        action, user = entry["action"], entry["user"]
        if action == "book":
            if owner is not None:
                report.problems.append(f"{vm_id}: booked by {user} while {owner} held it")
            owner = user
            bookings.append([entry])
            continue
        if owner != user:
            report.problems.append(f"{vm_id}: {action} #{entry['id']} of {user}, owner {owner}")
        if bookings:
            bookings[-1].append(entry)
        if action == "release":
            owner = None
    last = entries[-1] if entries else None
    if last is None or last["action"] == "release":
        if vm["booked_by"] is not None:
            report.problems.append(f"{vm_id}: booked by {vm['booked_by']} without a record")
    elif (vm["booked_by"], vm["expires_at"]) != (last["user"], last["end"]):
        report.problems.append(
            f"{vm_id}: state {vm['booked_by']}/{vm['expires_at']} but last record "
            f"{last['action']} {last['user']}/{last['end']}"
        )
    return bookings


def check_notifications(vm_id, entries, notes, bookings, report: Report) -> None:
    """Each record came with its notification; at most one warning per (re)timing."""
    kinds = (NOTE_FOR.get((e["action"], e["reason"])) for e in entries)
    expected = Counter(kind for kind in kinds if kind)
    found = Counter(n["type"] for n in notes if n["type"] in NOTE_FOR.values())
    if expected != found:
        report.problems.append(f"{vm_id}: history implies {dict(expected)}, notes {dict(found)}")
    note_bookings: list[list[dict]] = []
    for note in notes:
        if note["type"] == "vm_booked":
            note_bookings.append([])
        if note_bookings:
            note_bookings[-1].append(note)
    for index, (records, booking_notes) in enumerate(zip(bookings, note_bookings, strict=False)):
        warnings = [n for n in booking_notes if n["type"] == "expiry_warning"]
        retimings = sum(1 for r in records if r["action"] in RETIMING)
        report.warnings += len(warnings)
        if len(warnings) > retimings:
            report.problems.append(
                f"{vm_id}: booking {index} warned {len(warnings)} times for {retimings} timings"
            )
        if any(n["recipient"] != records[0]["user"] for n in warnings):
            report.problems.append(f"{vm_id}: booking {index} warned someone else")
        expired = sum(1 for r in records if r["reason"] == "expired")
        if expired > 1:
            report.problems.append(f"{vm_id}: booking {index} auto-released {expired} times")


def _record_key(attempt: Attempt) -> tuple | None:
    """The audit record an acknowledged write must have left: (action, vm, actor, reason, end)."""
    body = attempt.body or {}
    end = parse_iso(body["expires_at"]) if body.get("expires_at") else None
    return {
        "book": ("book", attempt.vm_id, attempt.actor, None, end),
        "renew": ("renew", attempt.vm_id, attempt.actor, None, end),
        "override": ("renew", attempt.vm_id, attempt.actor, "admin", end),
        "release": ("release", attempt.vm_id, attempt.actor, "manual", None),
        "force_release": ("release", attempt.vm_id, attempt.actor, "admin", None),
    }[attempt.kind]


def check_acknowledged(attempts: list[Attempt], history: list[dict], report: Report) -> None:
    """Every 200 left its audit record (matched as a multiset)."""
    have = Counter((e["action"], e["vm_id"], e["actor"], e["reason"], e["end"]) for e in history)
    want = Counter(_record_key(a) for a in attempts if a.acknowledged)
    for key, count in want.items():
        if have[key] < count:
            report.lost += count - have[key]
            report.problems.append(f"acknowledged {key} x{count}, found {have[key]}")


def check_last_writes(
    attempts: list[Attempt], vms: dict[str, dict], now: datetime, report: Report
) -> None:
    """A VM whose last write was acknowledged, with nothing else in flight, is as it said."""
    by_vm: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        if not attempt.refused:
            by_vm[attempt.vm_id].append(attempt)
    for vm_id, candidates in by_vm.items():
        acked = [a for a in candidates if a.acknowledged]
        if not acked:
            continue
        last = max(acked, key=lambda a: a.ended)
        if any(a is not last and a.ended >= last.started for a in candidates):
            continue  # overlapping or later writes: the order is not known from outside
        vm, body = vms[vm_id], last.body or {}
        report.checked_final += 1
        if last.kind in ("release", "force_release"):
            ok = vm["booked_by"] is None
        else:
            expires = parse_iso(body["expires_at"])
            ok = (vm["booked_by"], vm["expires_at"]) == (body["booked_by"], expires) or (
                expires <= now and vm["booked_by"] is None
            )
        if not ok:
            report.lost += 1
            report.problems.append(
                f"{vm_id}: last acknowledged {last.kind} {body.get('booked_by')}/"
                f"{body.get('expires_at')} but found {vm['booked_by']}/{vm['expires_at']}"
            )


def check_consistency(db: Database, prefix: str, report: Report) -> tuple[dict, list]:
    """The invariants any committed state must satisfy, whoever asked for what."""
    vms, history, notes = db.vms(prefix), db.history(prefix), db.notifications(prefix)
    per_vm_history, per_vm_notes = defaultdict(list), defaultdict(list)
    for entry in history:
        per_vm_history[entry["vm_id"]].append(entry)
    for note in notes:
        per_vm_notes[note["vm_id"]].append(note)
    for vm_id, vm in sorted(vms.items()):
        entries = per_vm_history[vm_id]
        bookings = check_history(vm_id, entries, vm, report)
        check_notifications(vm_id, entries, per_vm_notes[vm_id], bookings, report)
        report.bookings += len(bookings)
    report.auto_released = sum(1 for e in history if e["reason"] == "expired")
    return vms, history


def check_all(db: Database, prefix: str, attempts: list[Attempt], report: Report) -> Report:
    """Run every invariant over the database as it is now."""
    now = datetime.now(UTC)
    vms, history = check_consistency(db, prefix, report)
    check_acknowledged(attempts, history, report)
    check_last_writes(attempts, vms, now, report)
    report.attempts = len(attempts)
    report.acknowledged = sum(1 for a in attempts if a.acknowledged)
    report.uncertain = sum(1 for a in attempts if a.uncertain)
    report.statuses = Counter(a.status for a in attempts)
    if report.statuses.get(500):
        report.problems.append(f"{report.statuses[500]} answers were 500")
    return report
