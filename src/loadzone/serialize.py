"""Domain rows as the JSON objects of the API, the events and the seed format."""

from __future__ import annotations

from sqlalchemy import select

from loadzone.core.timeutil import isoformat
from loadzone.extensions import db
from loadzone.models import Booking, Group, HistoryEntry, Notification, Vm


def vm_status(vm: Vm) -> str:
    if vm.booked_by:
        return "booked"
    if getattr(vm, "resetting", False):
        return "resetting"
    if vm.maintenance:
        return "maintenance"
    return "held" if vm.held_for is not None else "free"


def vm_dict(vm: Vm, upcoming: Booking | None, labels: dict | None = None) -> dict:
    """A VM (an ORM row or a listing row) with its next reservation and labels."""
    return {
        "id": vm.id,
        "group": vm.group_id,
        "booked_by": vm.booked_by,
        "expires_at": isoformat(vm.expires_at),
        "booked_at": isoformat(vm.booked_at),
        "booking_id": vm.booking_id,
        "description": vm.description or "",
        "maintenance": bool(vm.maintenance),
        "maintenance_reason": getattr(vm, "maintenance_reason", None),
        "status": vm_status(vm),
        "labels": labels or {},
        "address": vm.address,
        "health": vm.health or "unknown",
        "health_since": isoformat(vm.health_since),
        "held_for": vm.held_for,
        "next_reservation": None
        if upcoming is None
        else {"id": upcoming.id, "start": isoformat(upcoming.start), "owner": upcoming.owner},
    }


def booking_dict(booking: Booking) -> dict:
    return {
        "id": booking.id,
        "vm_id": booking.vm_id,
        "owner": booking.owner,
        "start": isoformat(booking.start),
        "end": isoformat(booking.end),
        "state": booking.state,
        "ended_at": isoformat(booking.ended_at),
        "end_reason": booking.end_reason,
        "request_id": booking.request_id,
        "heartbeat_s": booking.heartbeat_s,
        "last_heartbeat": isoformat(booking.last_heartbeat),
        "created_at": isoformat(booking.created_at),
    }


def group_dict(group: Group, vm_ids: list[str] | None = None) -> dict:
    if vm_ids is None:
        vm_ids = list(
            db.session.scalars(select(Vm.id).where(Vm.group_id == group.id).order_by(Vm.id))
        )
    return {"id": group.id, "name": group.name, "vm_ids": vm_ids, "max_hours": group.max_hours}


def history_dict(entry: HistoryEntry) -> dict:
    return {
        "id": entry.id,
        "at": isoformat(entry.at),
        "action": entry.action,
        "reason": entry.reason,
        "vm_id": entry.vm_id,
        "user": entry.user,
        "actor": entry.actor,
        "start": isoformat(entry.start),
        "end": isoformat(entry.end),
        "booking_id": entry.booking_id,
    }


def notification_dict(note: Notification, read: bool | None = None) -> dict:
    data = {
        "id": note.id,
        "type": note.type,
        "message": note.message,
        "vm_id": note.vm_id,
        "group_id": note.group_id,
        "actor": note.actor,
        "created_at": isoformat(note.created_at),
        "owner": note.owner,
        "expires_at": isoformat(note.expires_at),
        "group_name": note.group_name,
    }
    if read is not None:
        data["read"] = read
    return data
