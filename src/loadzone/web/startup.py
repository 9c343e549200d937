"""Starting while the database is away: answer 503 (saying why), keep trying with back-off,
then migrate, plan the bookings and serve, all without a restart."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, request

from loadzone.web.api.errors import error_response

log = logging.getLogger(__name__)
_KEY = "loadzone.startup"
FIRST_WAIT, LONGEST_WAIT = 0.5, 8.0


@dataclass
class State:
    ready: bool = False
    why: str = "starting"


def ready(app: Flask) -> bool:
    """Whether the app serves; apps built without `begin` (tests, the CLI) always do."""
    state = app.extensions.get(_KEY)
    return state is None or state.ready


def begin(app: Flask, steps: list[Callable[[], None]]) -> None:
    """Answer 503 until each step has succeeded once, in order, retried with back-off."""
    state = State()
    app.extensions[_KEY] = state
    # First of all hooks: nothing else may touch the database before it is ready.
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: _hold(state))
    threading.Thread(target=_run, args=(state, steps), name="loadzone-startup", daemon=True).start()


def retrying(steps: list[Callable[[], None]]) -> None:
    """Run each step until it succeeds once, in order, with the same back-off."""
    _run(State(), steps, "started")


def _hold(state: State):
    if state.ready:
        return None
    message = f"LoadZone is starting: {state.why}."
    headers = {"Retry-After": "5"}
    if request.path.startswith("/api/") or request.path == "/healthz":
        return error_response(503, message, "starting", headers)
    return Response(message + "\n", 503, headers, mimetype="text/plain")


def _short(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]


def _run(state: State, steps: list[Callable[[], None]], done: str = "ready") -> None:
    began, attempts = time.monotonic(), 0
    for step in steps:
        wait = FIRST_WAIT
        while True:
            attempts += 1
            try:
                step()
                break
            except Exception as error:  # the database is away or refusing: wait and retry
                state.why = f"waiting for the database ({_short(error)}); next try in {wait:g} s"
                log.warning("start-up: %s", state.why)
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT)
    state.ready = True
    log.info("%s after %.1f s and %d attempts", done, time.monotonic() - began, attempts)
