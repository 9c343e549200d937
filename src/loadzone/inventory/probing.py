"""The health prober: one thread running one asyncio loop probes every VM address each period.

Probes are TCP connects, at most CONCURRENCY at a time, each given at most half the period
(and never more than MAX_TIMEOUT): 500 addresses that all time out still finish within a
5-second period. Only one instance probes (`Lease`); the others serve what it stores.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from flask import Flask
from sqlalchemy import text

from loadzone.core.storage import transaction
from loadzone.core.timeutil import utcnow
from loadzone.extensions import db
from loadzone.inventory import health

log = logging.getLogger(__name__)
CONCURRENCY = 256
MAX_TIMEOUT = 5.0
# Any fixed number: the advisory lock held by the instance that probes.
_PROBE_LOCK = 7402307


async def reachable(host: str, port: int, timeout: float) -> bool:
    """Whether a TCP connection to host:port opens within `timeout` seconds."""
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await asyncio.wait_for(
            loop.create_connection(asyncio.Protocol, host, port), timeout
        )
    except (OSError, TimeoutError, ValueError, UnicodeError):
        return False
    transport.abort()
    return True


async def probe_all(addresses: set[str], timeout: float, concurrency: int) -> dict[str, bool]:
    """Probe each address once, `concurrency` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(address: str) -> bool:
        async with gate:
            return await reachable(*health.probe_target(address), timeout)

    ordered = sorted(addresses)
    results = await asyncio.gather(*(one(address) for address in ordered))
    await asyncio.sleep(0)  # let the aborted transports close their sockets now
    return dict(zip(ordered, results, strict=True))


class Lease:
    """Who probes. PostgreSQL: the instance holding a session advisory lock on a connection of
    its own; if that instance dies, its connection closes and the lock passes to the next
    one that asks. SQLite serves a single instance, which always probes."""

    def __init__(self, app: Flask):
        self.app = app
        self.connection = None

    def hold(self) -> bool:
        """Keep or take the lease; False while another instance has it."""
        with self.app.app_context():
            engine = db.engine
        if engine.dialect.name != "postgresql":
            return True
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT 1"))
                self.connection.commit()
                return True
            except Exception:
                log.warning("lost the connection holding the health probe lease")
                self._drop(invalidate=True)
        return self._take(engine)

    def _take(self, engine) -> bool:
        connection = engine.connect()
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": _PROBE_LOCK}
            ).scalar()
            connection.commit()
        except Exception:
            connection.invalidate()
            connection.close()
            raise
        if got:
            self.connection = connection
            log.info("this instance now runs the health probes")
        else:
            connection.close()
        return bool(got)

    def release(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PROBE_LOCK})
            self.connection.commit()
        except Exception:
            self._drop(invalidate=True)
            return
        self._drop(invalidate=False)

    def _drop(self, invalidate: bool) -> None:
        if invalidate:
            self.connection.invalidate()
        self.connection.close()
        self.connection = None


class Prober:
    """Probes every `seconds`, stores changed verdicts, in a daemon thread of its own."""

    def __init__(self, app: Flask, seconds: float, concurrency: int = CONCURRENCY):
        self.app = app
        self.seconds = seconds
        self.timeout = min(MAX_TIMEOUT, seconds / 2)
        self.concurrency = concurrency
        self.streaks = health.Streaks()
        self.lease = Lease(app)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="health-probes", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=MAX_TIMEOUT * 2)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            while True:
                began = time.monotonic()
                try:
                    self.round(loop)
                except Exception:
                    log.exception("health probes failed; trying again next period")
                if self._stop.wait(max(0.0, self.seconds - (time.monotonic() - began))):
                    break
        finally:
            loop.close()
            self.lease.release()

    def round(self, loop: asyncio.AbstractEventLoop) -> list[str]:
        """One period: probe every address (if this instance holds the lease), store changes."""
        if not self.lease.hold():
            self.streaks = health.Streaks()  # the holder's view wins; ours goes stale
            return []
        with self.app.app_context():
            rows = health.targets()
        addresses = {address for _vm_id, address, _health in rows}
        results = loop.run_until_complete(probe_all(addresses, self.timeout, self.concurrency))
        self.streaks.keep_only({(vm_id, address) for vm_id, address, _health in rows})
        verdicts = {}
        for vm_id, address, current in rows:
            verdict = self.streaks.verdict((vm_id, address), results[address])
            if verdict is not None and verdict != current:
                verdicts[vm_id] = (address, verdict)
        if not verdicts:
            return []
        with self.app.app_context(), transaction():
            return health.store(verdicts, utcnow())


def start(app: Flask, seconds: float) -> Prober | None:
    """Serving process only: probe every `seconds`, or (0) make every VM's health unknown."""
    if seconds <= 0:
        with app.app_context(), transaction():
            health.forget(utcnow())
        return None
    prober = Prober(app, seconds)
    prober.start()
    app.extensions["loadzone.prober"] = prober
    return prober
