"""Rate limits (Flask-Limiter): sign-in per address and per client, API writes per person.
Counters live in Redis when LOADZONE_REDIS_URL is set, so instances share them."""

from __future__ import annotations

from flask import Flask, request
from flask_limiter.util import get_remote_address

from . import auth
from .errors import DomainError
from .extensions import limiter

WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


def person_or_client() -> str:
    """Limit writes per signed-in person; anonymous requests per client address."""
    try:
        actor = auth.resolve()
    except DomainError:
        actor = None
    return f"user:{actor.email}" if actor else f"ip:{get_remote_address()}"


def _exempt() -> bool:
    # Sign-in has limits of its own.
    return request.endpoint == "session.login"


def init_app(app: Flask, settings, blueprints) -> None:
    """Put the per-person write limit on every API blueprint."""
    for blueprint in blueprints:
        limiter.limit(
            lambda: settings.write_limit,
            key_func=person_or_client,
            methods=WRITE_METHODS,
            scope="api-writes",
            exempt_when=_exempt,
        )(blueprint)
