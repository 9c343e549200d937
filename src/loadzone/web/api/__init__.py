"""The JSON API under /api: one blueprint per resource, one guard, one error shape."""

from __future__ import annotations

from apiflask import APIFlask
from flask import current_app

from loadzone.booking.policies import Rules
from loadzone.core.timeutil import utcnow
from loadzone.errors import Invalid
from loadzone.identity import auth
from loadzone.identity.permissions import Actor

# Ids are 64-bit: a larger cursor cannot come from this API and would overflow the driver.
MAX_CURSOR = 2**63 - 1


def rules() -> Rules:
    return current_app.extensions["loadzone.rules"]


def actor() -> Actor:
    return auth.require_actor()


def now():
    return utcnow()


def parse_cursor(cursor: str | None) -> int | None:
    """Cursors are the id of the last item given; opaque to clients."""
    if cursor in (None, ""):
        return None
    # isdigit() alone accepts digits like '²' that int() refuses.
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_CURSOR:
        raise Invalid("The cursor is not one this API gave out.", "invalid_cursor")
    return int(cursor)


def page(items: list[dict], next_id: int | None, **extra) -> dict:
    return {"items": items, "next_cursor": None if next_id is None else str(next_id), **extra}


def init_app(app: APIFlask) -> None:
    from loadzone.web.api import (
        bookings,
        deliveries,
        docs,
        errors,
        groups,
        guard,
        history,
        me,
        preferences,
        queue,
        session,
        usage,
        vms,
    )

    errors.init_app(app)
    guard.init_app(app)
    for module in (
        session,
        me,
        preferences,
        vms,
        bookings,
        queue,
        groups,
        history,
        usage,
        deliveries,
        docs,
    ):
        app.register_blueprint(module.bp)
    app.register_blueprint(session.verify_bp)
