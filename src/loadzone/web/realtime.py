"""Socket.IO: who may connect, rooms per person, and the one place events are emitted."""

from __future__ import annotations

import logging
import queue
from urllib.parse import urlsplit

from flask import Flask, current_app, request, session
from flask_socketio import join_room

from loadzone.core import events
from loadzone.extensions import socketio
from loadzone.identity import accounts, auth
from loadzone.web import socket_guard, startup

log = logging.getLogger(__name__)
_SENDER = "loadzone.sender"


def room_for(email: str) -> str:
    return f"user:{email}"


def _emit(event: events.Event) -> None:
    to = room_for(event.to) if event.to else None
    socketio.emit(event.name, {**event.payload, "seq": event.seq, "prev": event.prev}, to=to)


def publish(event: events.Event) -> None:
    """Send an event to everyone, or to one person's room. Called only after a commit."""
    sender = current_app.extensions.get(_SENDER)
    if sender is None:
        _emit(event)  # apps without a server (tests, the CLI) send at once
    else:
        sender.put(event)


class Sender:
    """One thread sends every event, in commit order: the request that caused an event
    answers without waiting for it to reach every socket (1,000 sockets took 0.3 s)."""

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue()  # pure Python: gevent patches its lock

    def put(self, event: events.Event) -> None:
        self.queue.put(event)

    def run(self) -> None:
        while True:
            event = self.queue.get()
            try:
                _emit(event)
            except Exception:  # one failed emit must not silence the ones after it
                log.exception("could not send %s", event.name)


def start_sender(app: Flask) -> None:
    """Send events from their own thread (the serving process only)."""
    sender = Sender()
    socketio.start_background_task(sender.run)
    app.extensions[_SENDER] = sender


def _origin_allowed_for(public_url: str | None):
    public = None
    if public_url:
        parts = urlsplit(public_url)
        public = f"{parts.scheme}://{parts.netloc}"

    def allowed(origin, environ) -> bool:
        if origin is None:
            return True  # not a browser: credentials decide
        origin = origin.rstrip("/")
        scheme = environ.get("HTTP_X_FORWARDED_PROTO", environ.get("wsgi.url_scheme", "http"))
        host = environ.get("HTTP_X_FORWARDED_HOST", environ.get("HTTP_HOST", ""))
        own = f"{scheme.split(',')[0].strip()}://{host.split(',')[0].strip()}"
        return origin in (own, public)

    return allowed


def _identify(payload) -> tuple[str | None, tuple]:
    """Who connects, and the credential the socket lives by (see socket_guard)."""
    token = payload.get("token") if isinstance(payload, dict) else None
    if isinstance(token, str) and token:
        return accounts.user_for_token(token), ("token", accounts.digest(token))
    email = auth.session_email()
    return email, ("session", email, session.get("epoch"))


def _on_connect(payload=None):
    if not startup.ready(current_app):
        raise ConnectionRefusedError("starting: waiting for the database")
    email, credential = _identify(payload)
    if email is None:
        log.info("refused a socket from %s: no valid credentials", request.remote_addr)
        raise ConnectionRefusedError("sign in first")
    join_room(room_for(email))
    socket_guard.guard(current_app).opened(request.sid, credential)
    return True


def _on_disconnect(*_args):
    socket_guard.guard(current_app).closed(request.sid)


def init_app(app: Flask, settings) -> None:
    socketio.init_app(
        app,
        async_mode="gevent" if settings.worker == "gevent" else "threading",
        message_queue=settings.redis_url,
        channel=settings.redis_channel,
        cors_allowed_origins=_origin_allowed_for(settings.public_url),
        manage_session=False,
        ping_interval=20,
        ping_timeout=20,
        max_http_buffer_size=64 * 1024,
    )
    socketio.on_event("connect", _on_connect)
    socketio.on_event("disconnect", _on_disconnect)
    events.subscribe(app, publish)
