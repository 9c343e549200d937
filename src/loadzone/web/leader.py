"""Several serving processes on one machine (LOADZONE_WORKERS > 1): one runs the services.

Every worker serves HTTP and holds its own sockets (and re-checks them, socket_guard). The
scheduler, the hook worker, the health prober and the delivery courier run in one worker
only: the holder of an flock on the instance folder. When it dies, even by kill -9, the
kernel frees the lock, the next worker takes it and catches up with the start-up sweep,
and gunicorn starts a replacement worker. The others tell the holder, through Redis, of
the committed facts it plans jobs and hook runs from, and wake its courier.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pickle
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import redis
from flask import Flask

from loadzone.core import events
from loadzone.core.facts import BookingFact, HeartbeatReceived, HookRunPlanned, QueueChanged
from loadzone.web import startup

log = logging.getLogger(__name__)
FORWARDED = (BookingFact, HeartbeatReceived, HookRunPlanned, QueueChanged)
WAKE_COURIER = "courier"


@contextmanager
def locked(path: Path):
    """Hold an exclusive flock on `path` (waiting for it) for the block."""
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Leadership:
    """This worker's part: forward facts while another worker leads; lead once it can."""

    def __init__(self, app: Flask, settings):
        self.app = app
        self.path = Path(settings.instance_path) / "services.lock"
        self.channel = f"{settings.redis_channel}-services"
        self.redis = redis.Redis.from_url(settings.redis_url)
        self.held = threading.Event()

    def start(self, services: list[Callable[[], None]]) -> None:
        events.subscribe_facts(self.app, self._forward_fact)
        events.subscribe(self.app, self._forward_event)
        thread = threading.Thread(target=self._lead, args=(services,), daemon=True)
        thread.name = "loadzone-leader"
        thread.start()

    def _lead(self, services) -> None:
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the life of the process
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks while another worker leads
        self._handle = handle
        log.info("worker %d runs the scheduler, hooks, probes and courier", os.getpid())
        pubsub = self._subscribed()  # before the services: nothing told meanwhile is lost
        self.held.set()
        startup.retrying(services)
        while True:
            try:
                for message in pubsub.listen():
                    self._heard(message["data"])
            except redis.RedisError as error:  # the sweep covers what is missed meanwhile
                log.warning("lost Redis (%s); listening again in 1 s", error)
                time.sleep(1)
                pubsub = self._subscribed()

    def _subscribed(self):
        while True:
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                return pubsub
            except redis.RedisError as error:
                log.warning("cannot reach Redis (%s); trying again in 1 s", error)
                time.sleep(1)

    def _heard(self, data: bytes) -> None:
        try:
            item = pickle.loads(data)  # our own workers, through our own Redis
            if item == WAKE_COURIER:
                courier = self.app.extensions.get("loadzone.courier")
                if courier is not None:
                    courier.woken.set()
            else:
                events.tell(self.app, item)
        except Exception:  # one bad message must not stop the listener
            log.exception("could not act on a forwarded fact")

    def _publish(self, item) -> None:
        if self.held.is_set():
            return  # this worker leads: its own subscribers already have it
        try:
            self.redis.publish(self.channel, pickle.dumps(item))
        except redis.RedisError:  # the leader's sweep finds what it was not told
            log.warning("could not tell the leading worker of %r", type(item).__name__)

    def _forward_fact(self, fact) -> None:
        if isinstance(fact, FORWARDED):
            self._publish(fact)

    def _forward_event(self, event: events.Event) -> None:
        if event.name == "notification":
            self._publish(WAKE_COURIER)
