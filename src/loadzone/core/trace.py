"""The id of the request being served, for logs and audit records.

The web layer binds it for the length of a request; domain code reads it here instead of
reaching for Flask's `request` or `g`. Outside a request (jobs, the CLI) it is None.
"""

from __future__ import annotations

from contextvars import ContextVar

_REQUEST_ID: ContextVar[str | None] = ContextVar("loadzone_request_id", default=None)


def request_id() -> str | None:
    """The current request's id, or None outside a request."""
    return _REQUEST_ID.get()


def bind(value: str | None) -> None:
    """Make `value` the current request id (None: no request); a pooled thread is reused, so
    the web layer binds None when a request ends."""
    _REQUEST_ID.set(value)
