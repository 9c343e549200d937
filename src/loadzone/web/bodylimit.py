"""Oversized bodies: a 413 for any declared length past MAX_CONTENT_LENGTH, and the unread
rest of every body dropped before the answer goes out, so the client hears the answer
instead of a connection reset.

The app refuses a body without reading it (413, or 404/405 before it looks at the body).
Closing a socket that still holds unread data makes the kernel send a reset, and a client
still uploading loses the answer it was sent. Reading the remainder (up to DRAIN_LIMIT,
within DRAIN_SECONDS) first leaves the connection clean, so it even serves the next request.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, abort, current_app, request

log = logging.getLogger(__name__)
DRAIN_LIMIT = 64 * 1024 * 1024
DRAIN_SECONDS = 30
CHUNK = 64 * 1024


def _drain(stream) -> None:
    deadline = time.monotonic() + DRAIN_SECONDS
    read = 0
    while read < DRAIN_LIMIT and time.monotonic() < deadline:
        try:
            chunk = stream.read(CHUNK)
        except Exception as exc:  # a client that lies about the length or hangs up
            log.info("stopped reading an oversized body: %s", exc)
            return
        if not chunk:
            return
        read += len(chunk)


def _has_body(environ) -> bool:
    return environ.get("CONTENT_LENGTH", "") not in ("", "0") or bool(
        environ.get("HTTP_TRANSFER_ENCODING")
    )


class DrainBody:
    """WSGI middleware: consume what the app left of the body before the answer goes out."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if not _has_body(environ):
            return self.app(environ, start_response)

        def start(status, headers, exc_info=None):
            _drain(environ["wsgi.input"])
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def _refuse_oversized():
    """Before routing answers 404 or 405: an oversized body is always a 413."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        abort(413)


def init_app(app: Flask) -> None:
    app.wsgi_app = DrainBody(app.wsgi_app)
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_oversized)
