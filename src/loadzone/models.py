"""Tables: VMs, groups, users, the append-only history, notifications and tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .timeutil import as_utc

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


class Group(db.Model):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Lower-cased name: uniqueness is case-insensitive on every engine.
    name_key: Mapped[str] = mapped_column(String(100), unique=True)


class Vm(db.Model):
    __tablename__ = "vms"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str] = mapped_column(Text, default="")
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    booked_by: Mapped[str | None] = mapped_column(String(254), index=True)
    booked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # Set once the expiry warning for the current expiry went out; cleared on re-timing.
    warned: Mapped[bool] = mapped_column(Boolean, default=False)


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
