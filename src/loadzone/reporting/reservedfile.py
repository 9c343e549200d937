"""The keys data.json gains beside the seed's: reservations and the records of reserving.

A reader of the seed format can ignore them; LoadZone reads them back, so an import
followed by an export gives the same file.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from loadzone.booking import slots
from loadzone.core.timeutil import isoformat, parse_iso
from loadzone.errors import Invalid
from loadzone.extensions import db
from loadzone.inventory import labels as vm_labels
from loadzone.models import Booking, HistoryEntry, QueueRequest

KEYS = ("reservations", "audit", "queue")
QUEUE_FIELDS = ("owner", "vm_id", "group", "labels", "count", "hours", "heartbeat_s")
EXTRA_ACTIONS = ("reserve", "cancel")


def export_extra() -> dict:
    """Reservations and reserve/cancel records, under keys present only when not empty."""
    extra = {}
    reserved = db.session.scalars(
        select(Booking).where(Booking.state == "reserved").order_by(Booking.start, Booking.id)
    )
    reservations = [
        {
            "vm_id": b.vm_id,
            "owner": b.owner,
            "start": isoformat(b.start),
            "end": isoformat(b.end),
            "created_at": isoformat(b.created_at),
        }
        for b in reserved
    ]
    if reservations:
        extra["reservations"] = reservations
    records = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.action.in_(EXTRA_ACTIONS)).order_by(HistoryEntry.id)
    )
    audit = [
        {
            "at": isoformat(r.at),
            "action": r.action,
            "vm_id": r.vm_id,
            "user": r.user,
            "actor": r.actor,
            "start": isoformat(r.start),
            "end": isoformat(r.end),
        }
        for r in records
    ]
    if audit:
        extra["audit"] = audit
    waiting = db.session.scalars(
        select(QueueRequest)
        .where(QueueRequest.state == "waiting")
        .order_by(QueueRequest.created_at, QueueRequest.id)
    )
    queue = [
        {
            "owner": r.owner,
            "vm_id": r.vm_id,
            "group": r.group_id,
            "labels": json.loads(r.labels or "{}"),
            "count": r.count,
            "hours": r.hours,
            "heartbeat_s": r.heartbeat_s,
            "created_at": isoformat(r.created_at),
            "wait_until": isoformat(r.wait_until),
        }
        for r in waiting
    ]
    if queue:
        extra["queue"] = queue
    return extra


def _when(value, where: str) -> datetime:
    if not isinstance(value, str):
        raise Invalid(f"{where}: expected an ISO-8601 timestamp, got {value!r}.")
    try:
        return parse_iso(value)
    except (ValueError, OverflowError) as exc:
        raise Invalid(f"{where}: {value!r} is not an ISO-8601 timestamp.") from exc


def _email(value, where: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 254 or "\x00" in value:
        raise Invalid(f"{where}: expected an e-mail address, got {value!r}.")
    return value.lower()


def _items(data: dict, key: str, fields: set[str]) -> list[dict]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise Invalid(f"'{key}' must be a JSON array.")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or set(item) - fields:
            raise Invalid(f"{key}[{index}]: expected an object with {sorted(fields)}.")
    return items


class Extra:
    """The added keys of one data.json, checked against the VMs it holds."""

    def __init__(self, data: dict, vm_ids: set[str]):
        self.reservations = []
        for index, item in enumerate(
            _items(data, "reservations", {"vm_id", "owner", "start", "end", "created_at"})
        ):
            where = f"reservations[{index}]"
            if item.get("vm_id") not in vm_ids:
                raise Invalid(f"{where}: VM {item.get('vm_id')!r} is not in vms.")
            start, end = (
                _when(item.get("start"), f"{where}.start"),
                _when(item.get("end"), f"{where}.end"),
            )
            if end <= start:
                raise Invalid(f"{where}: end must lie after start.")
            created = _when(item.get("created_at", item.get("start")), f"{where}.created_at")
            owner = _email(item.get("owner"), f"{where}.owner")
            self.reservations.append((item["vm_id"], owner, start, end, created))
        self.audit = []
        fields = {"at", "action", "vm_id", "user", "actor", "start", "end"}
        for index, item in enumerate(_items(data, "audit", fields)):
            where = f"audit[{index}]"
            if item.get("action") not in EXTRA_ACTIONS or not isinstance(item.get("vm_id"), str):
                raise Invalid(f"{where}: expected a reserve or cancel record of a VM.")
            actor = item.get("actor")
            self.audit.append(
                HistoryEntry(
                    at=_when(item.get("at"), f"{where}.at"),
                    action=item["action"],
                    vm_id=item["vm_id"][:64],
                    user=_email(item.get("user"), f"{where}.user"),
                    actor=None if actor is None else _email(actor, f"{where}.actor"),
                    start=_when(item.get("start"), f"{where}.start"),
                    end=_when(item.get("end"), f"{where}.end"),
                )
            )
        self._check_overlaps()
        self.waiting = [
            self._request(index, item)
            for index, item in enumerate(
                _items(data, "queue", {*QUEUE_FIELDS, "created_at", "wait_until"})
            )
        ]

    @staticmethod
    def _request(index: int, item: dict) -> QueueRequest:
        where = f"queue[{index}]"
        numbers = [item.get("count"), item.get("hours")]
        if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in numbers):
            raise Invalid(f"{where}: count and hours must be positive whole numbers.")
        for key in ("group", "heartbeat_s"):
            value = item.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise Invalid(f"{where}: {key} must be a whole number or null.")
        if item.get("vm_id") is not None and not isinstance(item["vm_id"], str):
            raise Invalid(f"{where}: vm_id must be text or null.")
        try:
            labels = vm_labels.check_labels(item.get("labels") or {})
        except Invalid as exc:
            raise Invalid(f"{where}: {exc.message}") from exc
        return QueueRequest(
            owner=_email(item.get("owner"), f"{where}.owner"),
            vm_id=item.get("vm_id"),
            group_id=item.get("group"),
            labels=json.dumps(labels, sort_keys=True),
            count=item["count"],
            hours=item["hours"],
            heartbeat_s=item.get("heartbeat_s"),
            created_at=_when(item.get("created_at"), f"{where}.created_at"),
            wait_until=_when(item.get("wait_until"), f"{where}.wait_until"),
            state="waiting",
        )

    def _check_overlaps(self) -> None:
        by_vm: dict[str, list] = {}
        for vm_id, _owner, start, end, _created in self.reservations:
            by_vm.setdefault(vm_id, []).append((start, end))
        for vm_id, spans in by_vm.items():
            spans.sort()
            for (_s1, e1), (s2, _e2) in zip(spans, spans[1:], strict=False):
                if s2 < e1:
                    raise Invalid(f"reservations: two reservations of VM {vm_id} overlap.")

    @property
    def people(self) -> set[str]:
        waiting = {r.owner for r in self.waiting}
        return {r[1] for r in self.reservations} | {e.user for e in self.audit} | waiting

    def add_waiting(self) -> None:
        """Insert the waiting requests; the next change that settles the queue serves them."""
        db.session.add_all(self.waiting)
        db.session.flush()

    def records(self) -> list[HistoryEntry]:
        return list(self.audit)

    def add_reservations(self, now: datetime) -> None:
        """Insert the reservations (after the bookings rebuilt from the seed's records)."""
        for vm_id, owner, start, end, created in self.reservations:
            if slots.clash(vm_id, start, end) is not None:
                raise Invalid(f"reservations: a reservation of VM {vm_id} overlaps its booking.")
            db.session.add(
                Booking(
                    vm_id=vm_id,
                    owner=owner,
                    start=start,
                    end=end,
                    state="reserved",
                    created_at=created,
                    warned=False,
                )
            )
        db.session.flush()
