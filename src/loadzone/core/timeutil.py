"""UTC helpers: the app keeps every instant timezone-aware in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Read a naive instant as UTC; convert an aware one to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def isoformat(value: datetime | None) -> str | None:
    """ISO-8601 in UTC with its offset, or None."""
    return None if value is None else as_utc(value).isoformat()


def parse_iso(text: str) -> datetime:
    """Parse ISO-8601; a value without an offset is read as UTC."""
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return as_utc(datetime.fromisoformat(text))
