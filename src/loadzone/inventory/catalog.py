"""VMs and groups: add, edit, delete, and who may."""

from __future__ import annotations

import re
from collections import namedtuple
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from loadzone.core import events, facts, prebuilt
from loadzone.errors import Conflict, Invalid, NotFound
from loadzone.extensions import db
from loadzone.identity.permissions import Actor, require_manage
from loadzone.inventory import labels as vm_labels
from loadzone.models import Booking, Group, User, Vm
from loadzone.serialize import group_dict, vm_dict

VM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_DESCRIPTION = 500
MAX_GROUP_NAME = 100
# The largest value an Integer id column holds; a bigger id names nothing (and overflows drivers).
MAX_ID = 2**31 - 1
# What a VM listing shows, read into plain tuples that carry a Vm's attribute names: the
# holder comes from the VM's active booking.
LISTED = (
    Vm.id,
    Vm.group_id,
    Vm.description,
    Vm.maintenance,
    Booking.id.label("booking_id"),
    Booking.owner.label("booked_by"),
    Booking.start.label("booked_at"),
    Booking.end.label("expires_at"),
    Vm.address,
    Vm.held_for,
    Vm.resetting,
    Vm.maintenance_reason,
    Vm.health,
    Vm.health_since,
)
VmRow = namedtuple("VmRow", [column.key for column in LISTED])
_ACTIVE_JOIN = (Booking, (Booking.vm_id == Vm.id) & (Booking.state == "active"))


def check_vm_id(vm_id: str) -> str:
    if not isinstance(vm_id, str) or not VM_ID.fullmatch(vm_id):
        raise Invalid(
            "A VM id is 1-64 ASCII letters, digits, '.', '_' or '-', starting with a letter "
            "or digit.",
            "invalid_vm_id",
        )
    return vm_id


def check_group_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= MAX_GROUP_NAME:
        raise Invalid(f"A group name is 1-{MAX_GROUP_NAME} characters.", "invalid_name")
    return name


def check_description(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise Invalid(f"A description is at most {MAX_DESCRIPTION} characters.", "invalid_input")
    return text


def ensure_user(email: str, now: datetime) -> User:
    """The user row for `email`, created on first sign-in."""
    user = db.session.get(User, email)
    if user is None:
        user = User(email=email, created=now, session_epoch=0, read_upto=0)
        db.session.add(user)
        db.session.flush()
    return user


_VM = select(Vm).where(Vm.id == bindparam("vm_id"))
_VM_LOCKED = _VM.with_for_update()
_GROUP_OF = (
    select(Group.max_hours, Group.name)
    .join(Vm, Vm.group_id == Group.id)
    .where(Vm.id == bindparam("vm_id"))
)


def get_vm(vm_id: str, *, lock: bool = False) -> Vm:
    vm = db.session.scalar(_VM_LOCKED if lock else _VM, {"vm_id": vm_id})
    if vm is None:
        raise NotFound(f"There is no VM {vm_id!r}.", "vm_not_found")
    return vm


def get_group(group_id: int) -> Group:
    group = db.session.get(Group, group_id) if 0 < group_id <= MAX_ID else None
    if group is None:
        raise NotFound(f"There is no group {group_id}.", "group_not_found")
    return group


def group_of(vm_id: str):
    """The `max_hours` and `name` of the VM's group; None for a VM in no group."""
    return prebuilt.run(_GROUP_OF, {"vm_id": vm_id}).first()


def fresh_vm(vm_id: str) -> Vm:
    """The VM as the statements of this transaction left it, holder included."""
    vm = get_vm(vm_id)
    db.session.refresh(vm)
    db.session.expire(vm, ["active"])
    return vm


# Each VM's reservations, soonest first: what a VM object shows of its next one.
_RESERVED = (
    select(Booking.id, Booking.vm_id, Booking.owner, Booking.start)
    .where(Booking.state == "reserved")
    .order_by(Booking.start)
)
_RESERVED_OF = _RESERVED.where(Booking.vm_id.in_(prebuilt.ids()))
_DESCRIBED = select(*LISTED).outerjoin(*_ACTIVE_JOIN).where(Vm.id.in_(prebuilt.ids()))


def upcoming(vm_ids: list[str] | None = None) -> dict:
    """Each VM's earliest reservation (id, vm_id, owner, start), of the given VMs or of all."""
    rows = (
        prebuilt.run(_RESERVED) if vm_ids is None else prebuilt.run(_RESERVED_OF, {"ids": vm_ids})
    )
    found: dict = {}
    for row in rows:
        found.setdefault(row.vm_id, row)
    return found


def describe(vm: Vm) -> dict:
    """One VM as the API shows it."""
    return describe_many([vm.id])[0]


def describe_many(vm_ids: list[str]) -> list[dict]:
    """The given VMs (that exist) as the API shows them, in three queries."""
    rows = {row.id: VmRow._make(row) for row in prebuilt.run(_DESCRIBED, {"ids": vm_ids})}
    following = upcoming(list(rows))
    tags = vm_labels.of(list(rows))
    return [
        vm_dict(rows[vm_id], following.get(vm_id), tags.get(vm_id, {}))
        for vm_id in vm_ids
        if vm_id in rows
    ]


def publish_vm(vm: Vm | str) -> None:
    """Say that a VM changed; its full object goes to every browser after the commit."""
    events.record(db.session, facts.VmChanged(vm if isinstance(vm, str) else vm.id))


def publish_group(group: Group) -> None:
    db.session.flush()
    events.record(db.session, facts.GroupChanged(group.id))


def add_vm(
    actor: Actor,
    now: datetime,
    vm_id: str,
    group: int | None = None,
    description: str | None = None,
    labels: dict | None = None,
    address: str | None = None,
) -> Vm:
    """Register a new VM (free, not in maintenance), with optional labels and address."""
    require_manage(actor)
    check_vm_id(vm_id)
    labels = vm_labels.check_labels(labels or {})
    if db.session.get(Vm, vm_id) is not None:
        raise Conflict(f"A VM with id {vm_id!r} already exists.", "vm_exists")
    group_row = get_group(group) if group is not None else None
    vm = Vm(
        id=vm_id,
        group_id=group,
        description=check_description(description),
        maintenance=False,
        created_at=now,
        address=vm_labels.check_address(address),
    )
    db.session.add(vm)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"A VM with id {vm_id!r} already exists.", "vm_exists") from exc
    vm_labels.store(vm_id, labels)
    events.record(db.session, facts.VmAdded(vm_id, group, actor.email, now))
    publish_vm(vm)
    if group_row is not None:
        publish_group(group_row)
    return vm


def edit_vm(actor: Actor, vm_id: str, changes: dict, now: datetime | None = None) -> Vm:
    """Change a VM's group, description, maintenance flag, labels or address."""
    require_manage(actor)
    vm = get_vm(vm_id, lock=True)
    touched_groups = set()
    if "group" in changes and changes["group"] != vm.group_id:
        if changes["group"] is not None:
            get_group(changes["group"])
        touched_groups |= {vm.group_id, changes["group"]}
        vm.group_id = changes["group"]
    if "description" in changes:
        vm.description = check_description(changes["description"])
    if "maintenance" in changes:
        vm.maintenance = bool(changes["maintenance"])
        # Taking a VM out of maintenance clears a failed reset; by hand a reason is optional.
        vm.maintenance_reason = (
            (changes.get("maintenance_reason") or None) if vm.maintenance else None
        )
    elif "maintenance_reason" in changes and vm.maintenance:
        vm.maintenance_reason = changes["maintenance_reason"] or None
    if "address" in changes:
        address = vm_labels.check_address(changes["address"])
        if address != vm.address:
            # A new address has not been probed yet.
            vm.address, vm.health, vm.health_since = address, None, None
    if "labels" in changes:
        vm_labels.store(vm_id, vm_labels.check_labels(changes["labels"] or {}))
    db.session.flush()
    events.record(db.session, facts.VmChanged(vm.id, now))
    for group_id in touched_groups - {None}:
        publish_group(get_group(group_id))
    return vm


def delete_vm(vm_id: str) -> Group | None:
    """Remove an unbooked VM; bookings.delete_vm decides about booked ones."""
    vm = get_vm(vm_id, lock=True)
    group = db.session.get(Group, vm.group_id) if vm.group_id else None
    db.session.delete(vm)
    db.session.flush()
    events.record(db.session, facts.VmRemoved(vm_id))
    if group is not None:
        publish_group(group)
    return group


def _name_taken(name: str, except_id: int | None = None) -> bool:
    query = select(Group.id).where(Group.name_key == name.lower())
    if except_id is not None:
        query = query.where(Group.id != except_id)
    return db.session.scalar(query) is not None


def _flush_group() -> None:
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict("A group with that name already exists.", "name_taken") from exc


def _set_members(group: Group, vm_ids: list[str]) -> set[int]:
    """Make exactly `vm_ids` the group's VMs; return the other groups that lost VMs."""
    known = set(db.session.scalars(select(Vm.id).where(Vm.id.in_(vm_ids))))
    for vm_id in vm_ids:
        if vm_id not in known:
            raise NotFound(f"There is no VM {vm_id!r}.", "vm_not_found")
    moved_from = set(
        db.session.scalars(
            select(Vm.group_id).where(
                Vm.id.in_(vm_ids), Vm.group_id.is_not(None), Vm.group_id != group.id
            )
        )
    )
    db.session.execute(
        update(Vm).where(Vm.group_id == group.id, Vm.id.not_in(vm_ids)).values(group_id=None)
    )
    if vm_ids:
        db.session.execute(update(Vm).where(Vm.id.in_(vm_ids)).values(group_id=group.id))
    db.session.expire_all()
    for vm_id in vm_ids:
        publish_vm(vm_id)
    return moved_from


def create_group(actor: Actor, now: datetime, name: str, vm_ids: list[str] | None = None) -> Group:
    """Create a group (names are unique regardless of case), optionally with VMs."""
    require_manage(actor)
    name = check_group_name(name)
    if _name_taken(name):
        raise Conflict(f"A group named {name!r} already exists.", "name_taken")
    group = Group(name=name, name_key=name.lower())
    db.session.add(group)
    _flush_group()
    moved_from = _set_members(group, vm_ids) if vm_ids else set()
    events.record(db.session, facts.GroupCreated(group.id, name, actor.email, now))
    publish_group(group)
    for other in moved_from:
        publish_group(get_group(other))
    return group


def edit_group(
    actor: Actor, group_id: int, name: str | None, vm_ids: list[str] | None, **limits
) -> Group:
    """Rename a group, set exactly which VMs it holds, and/or its `max_hours` (None unsets)."""
    require_manage(actor)
    group = get_group(group_id)
    if "max_hours" in limits:
        group.max_hours = limits["max_hours"]
    if name is not None:
        name = check_group_name(name)
        if _name_taken(name, except_id=group.id):
            raise Conflict(f"A group named {name!r} already exists.", "name_taken")
        group.name, group.name_key = name, name.lower()
        _flush_group()
    moved_from: set[int] = set()
    if vm_ids is not None:
        before = set(db.session.scalars(select(Vm.id).where(Vm.group_id == group.id)))
        moved_from = _set_members(group, vm_ids)
        for vm_id in sorted(before - set(vm_ids)):
            publish_vm(vm_id)
    publish_group(group)
    for other in moved_from:
        publish_group(get_group(other))
    return group


def delete_group(actor: Actor, group_id: int) -> None:
    """Delete a group; its VMs become ungrouped."""
    require_manage(actor)
    group = get_group(group_id)
    members = list(db.session.scalars(select(Vm).where(Vm.group_id == group.id)))
    for vm in members:
        vm.group_id = None
    db.session.flush()
    db.session.delete(group)
    db.session.flush()
    for vm in members:
        publish_vm(vm)
    events.record(db.session, facts.GroupRemoved(group_id))


def list_vms(
    group: int | None = None,
    status: str | None = None,
    q: str | None = None,
    ungrouped: bool = False,
    labels: dict[str, str] | None = None,
) -> list[VmRow]:
    """VMs by id, filtered by group, status and a case-insensitive text match.

    Plain rows of the listed columns, not ORM objects: building those was most of the time
    of listing 10,000 VMs (docs/performance.md).
    """
    query = select(*LISTED).outerjoin(*_ACTIVE_JOIN).order_by(Vm.id)
    if ungrouped:
        query = query.where(Vm.group_id.is_(None))
    elif group is not None:
        query = query.where(Vm.group_id == group)
    if labels:
        query = query.where(vm_labels.matching(labels))
    free = Booking.id.is_(None) & Vm.maintenance.is_(False) & Vm.resetting.is_(False)
    if status == "booked":
        query = query.where(Booking.id.is_not(None))
    elif status == "free":
        query = query.where(free, Vm.held_for.is_(None))
    elif status == "held":
        query = query.where(free, Vm.held_for.is_not(None))
    elif status == "maintenance":
        query = query.where(Booking.id.is_(None), Vm.maintenance.is_(True), ~Vm.resetting)
    elif status == "resetting":
        query = query.where(Booking.id.is_(None), Vm.resetting.is_(True))
    if q:
        needle = q.lower()
        query = query.where(
            func.lower(Vm.id).contains(needle, autoescape=True)
            | func.lower(Vm.description).contains(needle, autoescape=True)
            | func.lower(func.coalesce(Booking.owner, "")).contains(needle, autoescape=True)
        )
    return [VmRow._make(row) for row in db.session.execute(query)]


def list_groups() -> list[dict]:
    """Every group with its VM ids, in two queries."""
    members: dict[int, list[str]] = {}
    for vm_id, group_id in db.session.execute(
        select(Vm.id, Vm.group_id).where(Vm.group_id.is_not(None)).order_by(Vm.id)
    ):
        members.setdefault(group_id, []).append(vm_id)
    groups = db.session.scalars(select(Group).order_by(func.lower(Group.name)))
    return [group_dict(g, members.get(g.id, [])) for g in groups]
