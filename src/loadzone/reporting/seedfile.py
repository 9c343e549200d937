"""The original data.json format, both ways and lossless."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, select, text, update

from loadzone.booking.replay import Holder, Replay
from loadzone.core import sequence
from loadzone.core.timeutil import isoformat, parse_iso
from loadzone.errors import Conflict, Invalid
from loadzone.extensions import db
from loadzone.inventory import catalog
from loadzone.inventory import labels as vm_labels
from loadzone.models import (
    ApiToken,
    Booking,
    CalendarFeed,
    ExtendLink,
    Group,
    HistoryEntry,
    LoginLink,
    MailPreference,
    Notification,
    NotificationRead,
    QueueRequest,
    User,
    Vm,
    VmLabel,
)
from loadzone.reporting import reservedfile, rollup

ACTIONS = {"book", "renew", "release"}
REASONS = {None, "manual", "admin", "expired", "idle"}


def export_state() -> dict:
    """The whole state: VMs, groups and users with their history, in the seed's shape.

    Reservations and the records of reserving and cancelling go under added keys, present
    only when there are any, so a seed file comes back exactly as it went in.
    """
    groups = catalog.list_groups()
    for group in groups:
        if group["max_hours"] is None:  # beyond the seed: only when set
            del group["max_hours"]
    vms = []
    tags = vm_labels.of()
    for vm in catalog.list_vms():
        item = {
            "id": vm.id,
            "group": vm.group_id,
            "booked_by": vm.booked_by,
            "expires_at": isoformat(vm.expires_at),
        }
        # Fields beyond the seed appear only when they carry something, so a seed file
        # comes back exactly as it went in.
        if vm.description:
            item["description"] = vm.description
        if vm.maintenance:
            item["maintenance"] = True
        if tags.get(vm.id):
            item["labels"] = tags[vm.id]
        if vm.address:
            item["address"] = vm.address
        vms.append(item)
    users = {}
    for user in db.session.scalars(select(User).order_by(User.email)):
        users[user.email] = {"created": isoformat(user.created), "bookings": []}
    seed_records = select(HistoryEntry).where(HistoryEntry.action.in_(ACTIONS))
    for entry in db.session.scalars(seed_records.order_by(HistoryEntry.id)):
        record = {
            "vm_id": entry.vm_id,
            "start": isoformat(entry.start),
            "end": isoformat(entry.end),
            "action": entry.action,
        }
        if entry.reason is not None:
            record["reason"] = entry.reason
        if entry.actor != entry.user:
            record["actor"] = entry.actor
        users.setdefault(entry.user, {"created": isoformat(entry.at), "bookings": []})
        users[entry.user]["bookings"].append(record)
    return {"vms": vms, "groups": groups, "users": users, **reservedfile.export_extra()}


class _Reader:
    """Checks one data.json, naming the entry at fault."""

    def __init__(self, data):
        if not isinstance(data, dict):
            raise Invalid("data.json must hold a JSON object with vms, groups and users.")
        unknown = set(data) - {"vms", "groups", "users", *reservedfile.KEYS}
        if unknown:
            raise Invalid(f"data.json has unknown top-level keys: {sorted(unknown)}")
        self.data = data

    def section(self, name: str, kind: type):
        value = self.data.get(name, kind())
        if not isinstance(value, kind):
            raise Invalid(f"'{name}' must be a JSON {kind.__name__.replace('dict', 'object')}.")
        return value

    @staticmethod
    def when(value, where: str, nullable: bool = False) -> datetime | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            raise Invalid(f"{where}: expected an ISO-8601 timestamp, got {value!r}.")
        try:
            return parse_iso(value)
        except (ValueError, OverflowError) as exc:  # an offset can push year 1 or 9999 out
            raise Invalid(f"{where}: {value!r} is not an ISO-8601 timestamp.") from exc


def _text(value, where: str, limit: int, nullable: bool = False) -> str | None:
    """A string the database can hold (at most `limit` characters, no NUL), or an error."""
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= limit or "\x00" in value:
        raise Invalid(f"{where}: expected text of 1-{limit} characters, got {value!r}.")
    return value


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _one_of(record: dict, key: str, allowed: set) -> bool:
    """Whether record[key] is one of `allowed` (a list or object there is simply not)."""
    value = record.get(key)
    return (value is None or isinstance(value, str)) and value in allowed


def _load_groups(reader: _Reader) -> tuple[list[Group], dict[str, int]]:
    groups, membership, names = [], {}, set()
    for index, item in enumerate(reader.section("groups", list)):
        where = f"groups[{index}]"
        if not isinstance(item, dict) or set(item) - {"id", "name", "vm_ids", "max_hours"}:
            raise Invalid(f"{where}: expected {{id, name, vm_ids}}, got {item!r}.")
        max_hours = item.get("max_hours")
        if max_hours is not None and (not _is_id(max_hours) or not 1 <= max_hours <= 10000):
            raise Invalid(f"{where}: max_hours must be a whole number of hours.")
        gid = item.get("id")
        if isinstance(gid, bool) or not isinstance(gid, int) or not 1 <= gid <= catalog.MAX_ID:
            raise Invalid(f"{where}: id must be a positive integer up to {catalog.MAX_ID}.")
        try:
            name = catalog.check_group_name(_text(item.get("name"), f"{where}.name", 10**6))
        except (Invalid, AttributeError) as exc:
            raise Invalid(f"{where}: name must be text of 1-100 characters.") from exc
        vm_ids = item.get("vm_ids") or []
        if not isinstance(vm_ids, list) or not all(isinstance(v, str) for v in vm_ids):
            raise Invalid(f"{where}: vm_ids must be a list of VM ids.")
        if name.lower() in names or any(g.id == gid for g in groups):
            raise Invalid(f"{where}: duplicate group id or name.")
        names.add(name.lower())
        for vm_id in vm_ids:
            membership[vm_id] = gid
        groups.append(Group(id=gid, name=name, name_key=name.lower(), max_hours=max_hours))
    return groups, membership


def _load_vms(
    reader: _Reader, group_ids: set[int], membership: dict, now
) -> tuple[list[Vm], dict[str, Holder], dict[str, dict]]:
    vms, seen, holders, labels = [], set(), {}, {}
    allowed = {
        "id",
        "group",
        "booked_by",
        "expires_at",
        "description",
        "maintenance",
        "labels",
        "address",
    }
    for index, item in enumerate(reader.section("vms", list)):
        where = f"vms[{index}]"
        if not isinstance(item, dict) or set(item) - allowed:
            raise Invalid(f"{where}: unexpected shape or keys in {item!r}.")
        try:
            vm_id = catalog.check_vm_id(item.get("id"))
        except Invalid as exc:
            raise Invalid(f"{where}: {exc.message}") from exc
        if vm_id in seen:
            raise Invalid(f"{where}: duplicate VM id {vm_id!r}.")
        seen.add(vm_id)
        group = item.get("group", membership.get(vm_id))
        if group is not None and (not _is_id(group) or group not in group_ids):
            raise Invalid(f"{where}: group {group!r} does not exist.")
        owner = _text(item.get("booked_by"), f"{where}.booked_by", 254, nullable=True)
        expires = reader.when(item.get("expires_at"), f"{where}.expires_at", nullable=True)
        if (owner is None) != (expires is None):
            raise Invalid(f"{where}: booked_by and expires_at must be set together.")
        if not isinstance(item.get("maintenance", False), bool):
            raise Invalid(f"{where}: maintenance must be true or false.")
        description = None if item.get("description") == "" else item.get("description")
        description = _text(description, f"{where}.description", 10**6, nullable=True)
        try:
            description = catalog.check_description(description)
        except Invalid as exc:
            raise Invalid(f"{where}: {exc.message}") from exc
        if owner:
            holders[vm_id] = Holder(owner.lower(), None, expires)
        try:
            labels[vm_id] = vm_labels.check_labels(item.get("labels", {}))
            address = vm_labels.check_address(item.get("address"))
        except Invalid as exc:
            raise Invalid(f"{where}: {exc.message}") from exc
        vms.append(
            Vm(
                id=vm_id,
                group_id=group,
                description=description,
                maintenance=item.get("maintenance", False),
                created_at=now,
                address=address,
            )
        )
    return vms, holders, labels


def _load_users(reader: _Reader) -> tuple[list[User], list[HistoryEntry]]:
    users, entries, seen = [], [], set()
    allowed = {"vm_id", "start", "end", "action", "reason", "actor"}
    for email, item in reader.section("users", dict).items():
        where = f"users[{email!r}]"
        if not isinstance(item, dict) or set(item) - {"created", "bookings"}:
            raise Invalid(f"{where}: expected {{created, bookings}}.")
        if _text(email, where, 254).lower() in seen:
            raise Invalid(f"{where}: the same address appears twice (letter case is ignored).")
        seen.add(email.lower())
        users.append(
            User(
                email=email.lower(),
                created=reader.when(item.get("created"), f"{where}.created"),
                session_epoch=0,
                read_upto=0,
            )
        )
        records = item.get("bookings") or []
        if not isinstance(records, list):
            raise Invalid(f"{where}.bookings: expected a list.")
        for index, rec in enumerate(records):
            at = f"{where}.bookings[{index}]"
            if (
                not isinstance(rec, dict)
                or set(rec) - allowed
                or not _one_of(rec, "action", ACTIONS)
            ):
                raise Invalid(
                    f"{at}: expected {{vm_id, start, end, action}} with action "
                    f"book, renew or release; got {rec!r}."
                )
            if not _one_of(rec, "reason", REASONS):
                raise Invalid(f"{at}: unknown reason {rec.get('reason')!r}.")
            start = reader.when(rec.get("start"), f"{at}.start")
            entries.append(
                HistoryEntry(
                    vm_id=_text(rec.get("vm_id"), f"{at}.vm_id", 64),
                    action=rec["action"],
                    reason=rec.get("reason"),
                    user=email.lower(),
                    actor=_text(rec.get("actor", email.lower()), f"{at}.actor", 254, nullable=True),
                    start=start,
                    end=reader.when(rec.get("end"), f"{at}.end", nullable=True),
                    at=start,
                )
            )
    return users, entries


def _is_empty() -> bool:
    # Accounts count too: importing a person who already signed in would collide with them.
    return all(
        db.session.scalar(select(func.count()).select_from(t)) == 0
        for t in (Vm, Group, HistoryEntry, User)
    )


def import_state(data, now, replace: bool = False) -> dict:
    """Load a data.json into the database (inside the caller's transaction)."""
    reader = _Reader(data)
    groups, membership = _load_groups(reader)
    vms, holders, labels = _load_vms(reader, {g.id for g in groups}, membership, now)
    users, entries = _load_users(reader)
    extra = reservedfile.Extra(reader.data, {vm.id for vm in vms})
    owners = {h.owner for h in holders.values()} | {e.user for e in entries} | extra.people
    known = {u.email for u in users}
    users += [User(email=o, created=now, session_epoch=0, read_upto=0) for o in owners - known]
    if not _is_empty():
        if not replace:
            raise Conflict(
                "The database is not empty (it holds VMs, groups, history or accounts); "
                "use --replace to overwrite it."
            )
        for table in (
            ExtendLink,
            NotificationRead,
            Notification,
            HistoryEntry,
            Booking,
            QueueRequest,
            VmLabel,
            Vm,
            Group,
            ApiToken,
            LoginLink,
            MailPreference,
            CalendarFeed,
            User,
        ):
            db.session.execute(delete(table))
        sequence.credentials_changed(db.session)  # every token and session went with them
    db.session.add_all(users)
    db.session.flush()
    db.session.add_all(groups)
    db.session.flush()
    db.session.add_all(vms)
    db.session.flush()
    for vm_id, pairs in labels.items():
        vm_labels.store(vm_id, pairs)
    entries += extra.records()
    entries.sort(key=lambda e: e.at)
    db.session.add_all(entries)
    db.session.flush()
    _rebuild_bookings(entries, holders, now)
    extra.add_reservations(now)
    extra.add_waiting()
    db.session.flush()
    rollup.rebuild(db.session, now)
    if db.engine.dialect.name == "postgresql":
        # Explicit ids were inserted: move the sequences past them.
        for table in ("groups", "bookings"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
            )
    return {"vms": len(vms), "groups": len(groups), "users": len(users), "history": len(entries)}


def _rebuild_bookings(entries: list[HistoryEntry], holders: dict[str, Holder], now) -> None:
    """Booking rows from the imported records and holders, each record linked to its own."""
    replay = Replay()
    for e in sorted(entries, key=lambda e: (e.at, e.id)):
        replay.record(e.id, e.at, e.action, e.reason, e.vm_id, e.user, e.end)
    replay.finish(holders, now)
    if replay.rows:
        db.session.execute(insert(Booking), replay.rows)
    if replay.links:
        db.session.execute(
            update(HistoryEntry.__table__)
            .where(HistoryEntry.__table__.c.id == bindparam("h"))
            .values(booking_id=bindparam("b")),
            replay.links,
        )
