"""Booking rows rebuilt from audit records: for the schema upgrade and for data.json imports.

Records are read oldest first. A `book` opens a booking, a `renew` moves its end, a
`release` ends it; other actions (reserve, cancel) hold no VM time and are only linked.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Holder(NamedTuple):
    """A VM's current holder as the source knows it."""

    owner: str
    start: datetime | None
    end: datetime
    warned: bool = False


class Replay:
    """Collects booking rows (`rows`, ids from 1) and record-to-booking links (`links`)."""

    def __init__(self):
        self.rows: list[dict] = []
        self.links: list[dict] = []
        self.open: dict[str, dict] = {}

    def _new(self, vm_id, owner, start, end, state="ended", warned=True) -> dict:
        row = {
            "id": len(self.rows) + 1,
            "vm_id": vm_id,
            "owner": owner,
            "start": start,
            "end": end,
            "state": state,
            "ended_at": None,
            "end_reason": None,
            "created_at": start,
            "warned": warned,
        }
        self.rows.append(row)
        return row

    def record(self, record_id, at, action, reason, vm_id, user, end) -> None:
        """Apply one audit record."""
        if action not in ("book", "renew", "release"):
            return
        current = self.open.get(vm_id)
        if action == "book" or current is None or current["owner"] != user:
            if current is not None:  # its release was never recorded: it ran out
                self._close(vm_id, current["end"], "expired")
            current = self.open[vm_id] = self._new(vm_id, user, at, end or at)
        self.links.append({"h": record_id, "b": current["id"]})
        if action == "renew" and end is not None:
            current["end"] = end
        elif action == "release":
            self._close(vm_id, at, reason or "manual")

    def _close(self, vm_id: str, at: datetime, reason: str) -> None:
        booking = self.open.pop(vm_id)
        booking["ended_at"] = min(at, booking["end"]) if reason == "expired" else at
        booking["end_reason"] = reason

    def finish(self, holders: dict[str, Holder], now: datetime) -> None:
        """Open bookings of the VMs' holders become active; the others ran out at their end."""
        holders = dict(holders)
        for vm_id, booking in list(self.open.items()):
            holder = holders.get(vm_id)
            if holder is not None and holder.owner == booking["owner"]:
                del holders[vm_id], self.open[vm_id]
                booking.update(state="active", end=holder.end, warned=holder.warned)
            else:
                self._close(vm_id, booking["end"], "expired")
        for vm_id, holder in holders.items():
            start = min(holder.start or now, holder.end)
            self._new(vm_id, holder.owner, start, holder.end, "active", holder.warned)
