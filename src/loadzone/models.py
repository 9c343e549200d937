"""Tables: VMs, groups, users, bookings, the append-only history, notifications and tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loadzone.core.timeutil import as_utc
from loadzone.extensions import db

# SQLite has no BIGINT autoincrement; history and notifications may grow past 2**31 on PostgreSQL.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC, so comparisons work the same on every engine."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else as_utc(value)


class User(db.Model):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    created: Mapped[datetime] = mapped_column(UtcDateTime)
    # Bumped on logout: every cookie carrying an older epoch stops working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    # Notifications with an id at or below this are read ("mark all read").
    read_upto: Mapped[int] = mapped_column(BigId, default=0)
    # Admin by the identity provider's group claim, as of the person's last OIDC sign-in.
    idp_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class Group(db.Model):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Lower-cased name: uniqueness is case-insensitive on every engine.
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    # The longest booking of this group's VMs, in hours (None: only the global maximum).
    max_hours: Mapped[int | None] = mapped_column(Integer)


# Reserved and active bookings hold their VM's time; ended and cancelled ones hold nothing.
HOLDING = ("reserved", "active")


class Booking(db.Model):
    """One VM held by one person over [start, end): reserved, active, ended or cancelled."""

    __tablename__ = "bookings"
    __table_args__ = (
        # The VM's holder is its one active booking: the database refuses a second.
        Index(
            "ux_bookings_active_vm",
            "vm_id",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
        Index("ix_bookings_vm_start", "vm_id", "start"),
        Index("ix_bookings_state_start", "state", "start"),
        Index("ix_bookings_state_end", "state", "end"),
        Index("ix_bookings_owner_start", "owner", "start"),
        Index("ix_bookings_end", "end"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    vm_id: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(254))
    start: Mapped[datetime] = mapped_column(UtcDateTime)
    end: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(16))
    request_id: Mapped[int | None] = mapped_column(BigId)
    heartbeat_s: Mapped[int | None] = mapped_column(Integer)
    last_heartbeat: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set once the expiry warning for the current end went out; cleared when the end moves.
    warned: Mapped[bool] = mapped_column(Boolean, default=False)
    # When a heartbeat booking is released as idle: last heartbeat (or start) + heartbeat_s.
    idle_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class QueueRequest(db.Model):
    """A request waiting for VMs; granted by creating its bookings."""

    __tablename__ = "requests"
    __table_args__ = (Index("ix_requests_state_created", "state", "created_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(254), index=True)
    vm_id: Mapped[str | None] = mapped_column(String(64))
    group_id: Mapped[int | None] = mapped_column(Integer)
    # The labels every granted VM must carry, as a JSON object.
    labels: Mapped[str] = mapped_column(Text, default="{}")
    count: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)
    heartbeat_s: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    wait_until: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))
    granted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Vm(db.Model):
    __tablename__ = "vms"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str] = mapped_column(Text, default="")
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    address: Mapped[str | None] = mapped_column(String(255))
    # The waiting request this free VM is kept for (strict first come, first served).
    held_for: Mapped[int | None] = mapped_column(BigId, index=True)
    # A release hook runs (or waits to run) for this VM: it cannot be booked or granted.
    resetting: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Why the VM is in maintenance (a failed reset); None when set by hand without a reason.
    maintenance_reason: Mapped[str | None] = mapped_column(Text)
    # The last health probes' verdict, "up" or "down" (None: unknown), and since when.
    health: Mapped[str | None] = mapped_column(String(8))
    health_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The holder is derived from the active booking: there is no second copy to disagree.
    active: Mapped[Booking | None] = relationship(
        Booking,
        primaryjoin=lambda: and_(Booking.vm_id == Vm.id, Booking.state == "active"),
        foreign_keys=lambda: [Booking.vm_id],
        viewonly=True,
        uselist=False,
        lazy="select",
    )

    @property
    def booking_id(self) -> int | None:
        return self.active.id if self.active else None

    @property
    def booked_by(self) -> str | None:
        return self.active.owner if self.active else None

    @property
    def booked_at(self) -> datetime | None:
        return self.active.start if self.active else None

    @property
    def expires_at(self) -> datetime | None:
        return self.active.end if self.active else None


class VmLabel(db.Model):
    """One key=value label of a VM."""

    __tablename__ = "vm_labels"
    __table_args__ = (Index("ix_vm_labels_pair", "key", "value"),)

    vm_id: Mapped[str] = mapped_column(
        ForeignKey("vms.id", ondelete="CASCADE", onupdate="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))


class HistoryEntry(db.Model):
    """One audit record. Rows are only ever inserted."""

    __tablename__ = "history"
    # Pages run newest first by (at, id). Each selective filter has an index ending in those
    # columns, so a page is one backward index range that stops after `limit` rows; `action`
    # (three values) needs none: about every third row of the (at, id) range matches.
    __table_args__ = (
        Index("ix_history_vm_at", "vm_id", "at", "id"),
        Index("ix_history_user_at", "user", "at", "id"),
        Index("ix_history_at_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(16))
    vm_id: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(254))
    actor: Mapped[str | None] = mapped_column(String(254))
    start: Mapped[datetime] = mapped_column(UtcDateTime)
    end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    booking_id: Mapped[int | None] = mapped_column(BigId, index=True)
    # The X-Request-ID of the HTTP request that made the change (None for jobs and the CLI).
    request_id: Mapped[str | None] = mapped_column(String(128))


class Notification(db.Model):
    """Stored once per event: recipient NULL means everyone."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient", "recipient", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    vm_id: Mapped[str | None] = mapped_column(String(64))
    group_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(254))
    recipient: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # So that a chat message or e-mail reads alone (migration 0008).
    owner: Mapped[str | None] = mapped_column(String(254))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    group_name: Mapped[str | None] = mapped_column(String(100))


class NotificationRead(db.Model):
    __tablename__ = "notification_reads"

    user: Mapped[str] = mapped_column(
        ForeignKey("users.email", ondelete="CASCADE"), primary_key=True
    )
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user: Mapped[str] = mapped_column(ForeignKey("users.email", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginLink(db.Model):
    """A one-time sign-in link: only the hash of its token is kept."""

    __tablename__ = "login_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class HookRun(db.Model):
    """One run of a release or book hook, written with the booking change that calls for it.

    `pending` until an instance claims it (`running`, with a lease it renews), then `done` or
    `failed`. A claim names the instance (host, process id and start) so a restarted instance
    on the same host can take back the runs of a dead one without waiting for the lease.
    """

    __tablename__ = "hook_runs"
    __table_args__ = (Index("ix_hook_runs_state_lease", "state", "lease_until"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # release | book
    vm_id: Mapped[str] = mapped_column(String(64), index=True)
    booking_id: Mapped[int | None] = mapped_column(BigId)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pid: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    output: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)


class MailPreference(db.Model):
    """A person's own choice for one notification type; absent rows take the default."""

    __tablename__ = "mail_preferences"

    user: Mapped[str] = mapped_column(
        ForeignKey("users.email", ondelete="CASCADE"), primary_key=True
    )
    type: Mapped[str] = mapped_column(String(32), primary_key=True)
    wanted: Mapped[bool] = mapped_column(Boolean)


class CalendarFeed(db.Model):
    """A person's calendar feed: only the hash of its secret address is kept."""

    __tablename__ = "calendar_feeds"

    user: Mapped[str] = mapped_column(
        ForeignKey("users.email", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EventCounter(db.Model):
    """The one row numbering Socket.IO events (the last `seq`, and the last one for everyone)
    and changes to credentials (revoked tokens, ended sessions)."""

    __tablename__ = "event_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    public_seq: Mapped[int] = mapped_column(BigInteger)
    credentials: Mapped[int] = mapped_column(BigInteger, server_default="0")


class Delivery(db.Model):
    """One e-mail or webhook post, written with the change that causes it (the outbox)."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "state", "next_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))  # mail | webhook
    notification_id: Mapped[int | None] = mapped_column(BigId, index=True)
    target: Mapped[str] = mapped_column(Text)  # an e-mail address or a URL
    payload: Mapped[str] = mapped_column(Text)  # JSON
    # Idempotency-Key of a webhook, the Message-ID of a mail: the same on every attempt.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # After this instant a failed attempt fails the delivery (an admin's retry moves it).
    give_up_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ExtendLink(db.Model):
    """The one-click extend link of an expiry warning: only the hash of its token is kept."""

    __tablename__ = "extend_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    booking_id: Mapped[int] = mapped_column(BigId, index=True)
    notification_id: Mapped[int] = mapped_column(BigId, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# -- usage rollup: whole past days, so usage reads a few rows per VM and day -----------------
class UsageDay(db.Model):
    """Seconds held on one VM during one whole UTC day, and the bookings that began then."""

    __tablename__ = "usage_days"
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    vm_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bookings: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)


class UsageMark(db.Model):
    """A day rolled up: the latest instant a booking that began that day was held until,
    and the highest booking id when it was rolled."""

    __tablename__ = "usage_marks"

    day: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    reach: Mapped[datetime | None] = mapped_column(UtcDateTime)
    max_id: Mapped[int] = mapped_column(BigId)


class UsagePerson(db.Model):
    """The last rolled-up day a person held a VM of a group (0: VMs in no group)."""

    __tablename__ = "usage_people"

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(254), primary_key=True)
    last_day: Mapped[datetime] = mapped_column(UtcDateTime)


class UsageVmGroup(db.Model):
    """Each VM's group when the days were rolled up (0: none, -1: the VM did not exist)."""

    __tablename__ = "usage_vm_groups"

    vm_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
