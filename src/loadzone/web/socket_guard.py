"""Sockets follow their credentials: every instance re-checks the sockets it holds each
second and closes those whose session ended (sign-out, "end sessions") or whose token was
revoked. Re-checking needs no message between instances, so it works the same with or
without Redis and whichever instance or command ended the session; it costs one or two
indexed queries per second per instance, whatever the number of sockets."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy import select

from loadzone.extensions import db, socketio
from loadzone.models import ApiToken, User
from loadzone.web import metrics

log = logging.getLogger(__name__)
CHECK_SECONDS = 1.0
CHUNK = 500
_KEY = "loadzone.socket_guard"


class Guard:
    """The credentials of the sockets open on this instance, by Socket.IO session id."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sockets: dict[str, tuple] = {}

    def opened(self, sid: str, credential: tuple) -> None:
        with self.lock:
            new = sid not in self.sockets
            self.sockets[sid] = credential
        if new:
            metrics.sockets_changed(1)

    def closed(self, sid: str) -> None:
        with self.lock:
            held = self.sockets.pop(sid, None) is not None
        if held:
            metrics.sockets_changed(-1)

    def stale(self) -> list[str]:
        """Sockets whose token is gone or whose session epoch moved on."""
        with self.lock:
            held = dict(self.sockets)
        hashes = {c[1] for c in held.values() if c[0] == "token"}
        emails = {c[1] for c in held.values() if c[0] == "session"}
        live_tokens = set(_in_chunks(select(ApiToken.token_hash), ApiToken.token_hash, hashes))
        epochs = dict(_in_chunks(select(User.email, User.session_epoch), User.email, emails))
        return [
            sid
            for sid, credential in held.items()
            if (credential[0] == "token" and credential[1] not in live_tokens)
            or (credential[0] == "session" and epochs.get(credential[1]) != credential[2])
        ]


def _in_chunks(query, column, values: set) -> list:
    values = list(values)
    rows = []
    for first in range(0, len(values), CHUNK):
        rows += db.session.execute(query.where(column.in_(values[first : first + CHUNK]))).all()
    return [row[0] if len(row) == 1 else tuple(row) for row in rows]


def guard(app: Flask) -> Guard:
    return app.extensions.setdefault(_KEY, Guard())


def _check(app: Flask) -> None:
    with app.app_context():
        try:
            stale = guard(app).stale()
        except Exception:  # the database is away: keep the sockets, try again next time
            log.warning("could not re-check socket credentials", exc_info=True)
            return
        finally:
            db.session.remove()
    for sid in stale:
        log.info("closing socket %s: its session ended or its token was revoked", sid)
        guard(app).closed(sid)
        socketio.server.disconnect(sid, namespace="/")


def start(app: Flask) -> None:
    """Re-check every second, in the serving process only."""

    def loop() -> None:
        while True:
            socketio.sleep(CHECK_SECONDS)
            _check(app)

    socketio.start_background_task(loop)
