"""Keep-alive connections spread evenly over the workers of `LOADZONE_WORKERS`.

Every worker waits on the one listening socket and the kernel hands a new connection to
whichever asks first, so a handful of keep-alive connections (a proxy's upstream pool, a
CI fleet polling the board) could all land on one worker while the other idled: with two
workers, 16 clients got 573 or 1,157 listings/s depending on the draw. Each worker posts
on a board in shared memory how many connections it holds; one that holds more than a
live sibling leaves the next connection to that sibling.
"""

from __future__ import annotations

import multiprocessing
import select
import time

from flask import Flask

from loadzone.web import startup
from loadzone.web.keepalive import KeepAliveWorker

# A worker posts at least once a second (its event loop wakes that often); one silent for
# longer is dead or stuck, and nobody waits for it to accept.
STALE_SECONDS = 3.0
# How long a worker that stood aside ignores the listening socket: the sibling, woken by
# the same connection, takes it meanwhile. A connection waits at most STAND_ASIDE_LIMIT for
# a sibling that is slow to take it, then this worker takes it after all.
STAND_ASIDE_SECONDS = 0.005
STAND_ASIDE_LIMIT = 0.05


class Board:
    """Per slot: connections held and when that was last posted (monotonic clock)."""

    def __init__(self, slots: int):
        self.slots = slots
        self.cells = multiprocessing.Array("d", 2 * slots, lock=False)

    def post(self, slot: int, connections: int) -> None:
        self.cells[2 * slot] = connections
        self.cells[2 * slot + 1] = time.monotonic()

    def leave(self, slot: int) -> None:
        self.cells[2 * slot + 1] = 0.0

    def fewest_elsewhere(self, slot: int) -> float | None:
        """The fewest connections a live sibling of `slot` holds; None without one."""
        now, found = time.monotonic(), None
        for other in range(self.slots):
            if other == slot or now - self.cells[2 * other + 1] > STALE_SECONDS:
                continue
            held = self.cells[2 * other]
            found = held if found is None else min(found, held)
        return found


def claim_slot(board: Board, live_workers) -> int | None:
    """A slot no live worker uses (called by the arbiter before it forks a worker)."""
    used = {getattr(worker, "board_slot", None) for worker in live_workers}
    free = [slot for slot in range(board.slots) if slot not in used]
    if not free:
        return None
    board.leave(free[0])
    return free[0]


class BalancedWorker(KeepAliveWorker):
    """gunicorn's threaded worker that accepts only while it holds no more than a sibling."""

    board: Board | None = None  # set in the arbiter before the first fork
    board_slot: int | None = None
    _aside_since: float | None = None
    _aside_until = 0.0

    def _serving(self) -> bool:
        return startup.ready(self.wsgi) if isinstance(self.wsgi, Flask) else True

    def _post(self) -> None:
        if self.board is not None and self.board_slot is not None:
            # Nobody should wait for a worker still starting (it answers 503) or one at
            # its connection limit (it does not accept).
            away = self.nr_conns >= self.worker_connections or not self._serving()
            self.board.post(self.board_slot, float("inf") if away else self.nr_conns)

    def _ahead(self, now: float) -> bool:
        if self.board is None or self.board_slot is None:
            return False
        if self._aside_since is not None and now - self._aside_since > STAND_ASIDE_LIMIT:
            return False
        fewest = self.board.fewest_elsewhere(self.board_slot)
        if fewest is None or fewest == float("inf"):
            return False
        return self.nr_conns > fewest or not self._serving()

    def accept(self, listener):
        now = time.monotonic()
        if self._ahead(now):
            if self._aside_since is None:
                self._aside_since = now
            self._aside_until = now + STAND_ASIDE_SECONDS
            self.set_accept_enabled(False)
            return
        self._aside_since = None
        super().accept(listener)
        self._post()

    def set_accept_enabled(self, enabled):
        # The event loop re-enables accepting on every turn; while standing aside it waits.
        if enabled and self._aside_since is not None:
            if time.monotonic() < self._aside_until:
                return
            if not select.select(self.sockets, [], [], 0)[0]:
                self._aside_since = None  # the sibling took the connection
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout):
        self._post()
        if not self._accepting:
            # Standing aside: come back soon enough to accept if the sibling did not.
            timeout = min(timeout, STAND_ASIDE_SECONDS)
        super().wait_for_and_dispatch_events(timeout)
        self._post()
