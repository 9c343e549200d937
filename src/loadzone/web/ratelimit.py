"""Rate limits (Flask-Limiter): sign-in per address and per client, API writes per person.
Counters live in Redis when LOADZONE_REDIS_URL is set, so instances share them."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from loadzone.errors import DomainError
from loadzone.identity import auth

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def person_or_client() -> str:
    """Limit writes per signed-in person; anonymous requests per client address."""
    try:
        actor = auth.resolve()
    except DomainError:
        actor = None
    return f"user:{actor.email}" if actor else f"ip:{get_remote_address()}"


def _write_limit() -> str:
    return current_app.extensions["loadzone.settings"].write_limit


def _not_an_api_write() -> bool:
    return request.method not in WRITE_METHODS or not request.path.startswith("/api/")


# Limits are read from the current app's settings at request time, so one Limiter serves
# every app built in a process (tests build many).
limiter = Limiter(
    key_func=person_or_client,
    default_limits=[_write_limit],
    default_limits_exempt_when=_not_an_api_write,
    headers_enabled=True,
    key_prefix="loadzone",
)


def init_app(app: Flask, settings) -> None:
    """Bind the limiter; sign-in declares its own limits on its route."""
    app.config.update(
        RATELIMIT_ENABLED=settings.rate_limit,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        # Redis down must not take bookings down: count in memory until it is back.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    limiter.init_app(app)
