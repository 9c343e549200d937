"""Request ids: taken from X-Request-ID when well-formed, else made up; echoed in the response,
bound for the use case and its audit record (core/trace.py), and written on the access line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

from loadzone.core import trace

HEADER = "X-Request-ID"
# What proxies and tracers send (UUIDs, hex, `Root=1-…`), short enough for the history column.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{0,127}")
access = logging.getLogger("loadzone.access")


def accepted(raw: str | None) -> str:
    """The caller's id if it is well-formed, else a new one."""
    if raw and WELL_FORMED.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def route() -> str:
    """The matched URL rule (`/api/vms/<vm_id>`): few values, and no secret from the path."""
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def _begin() -> None:
    g.request_id = accepted(request.headers.get(HEADER))
    g.started = time.perf_counter()
    trace.bind(g.request_id)


def _finish(response):
    # A hook that answers first (the start-up 503) skips _begin: give that answer an id too.
    if "request_id" not in g:
        g.request_id = accepted(request.headers.get(HEADER))
    response.headers[HEADER] = g.request_id
    seconds = time.perf_counter() - g.started if "started" in g else None
    access.info(
        "%s %s %s %s",
        request.method,
        route(),
        response.status_code,
        f"{seconds * 1000:.1f} ms" if seconds is not None else "-",
        extra={
            "request_id": g.request_id,
            "method": request.method,
            "route": route(),
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2) if seconds is not None else None,
        },
    )
    return response


def _end(_error=None) -> None:
    trace.bind(None)  # threads are pooled: the next request must not inherit this id


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_end)
