"""The board: the unfiltered VM list, serialised once per change and served as bytes.

Building the list (rows, next reservations, labels, JSON) costs about 1 ms per 25 VMs;
most requests ask for the same list as the one before. A snapshot is kept with the event
number (`core/sequence.py`) read before it was built, and serves every request whose
number is not newer: each change to a VM commits with a new number, whichever process or
instance makes it. Any commit in this process also retires the snapshot (a change that
numbered no event, such as a test's direct insert), and so does age, for changes made
behind the app's back (a restore).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app, has_app_context
from flask_sqlalchemy.session import Session
from sqlalchemy import event

_KEY = "loadzone.board"
MAX_AGE = 5.0  # seconds; a bound for changes the event numbers cannot see
GZIP_OVER = 8 * 1024  # smaller bodies gain too little to be worth the CPU


@dataclass
class Snapshot:
    seq: int
    body: bytes
    etag: str
    generation: int
    built: float
    _gzip: bytes | None = field(default=None, repr=False)

    def gzipped(self) -> bytes:
        # Compressed once per snapshot, on the first client that accepts it.
        if self._gzip is None:
            self._gzip = gzip.compress(self.body, compresslevel=5, mtime=0)
        return self._gzip


class Board:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self.generation = 0
        self.builds = 0

    def retire(self) -> None:
        self.generation += 1

    def _fresh(self, snap: Snapshot | None, seq: int) -> bool:
        return (
            snap is not None
            and snap.seq >= seq
            and snap.generation == self.generation
            and time.monotonic() - snap.built < MAX_AGE
        )

    def get(self, seq: int, build: Callable[[], bytes]) -> Snapshot:
        """The snapshot for event number `seq`, built by one thread while others wait."""
        snap = self._snapshot
        if self._fresh(snap, seq):
            return snap
        with self._lock:
            snap = self._snapshot
            if self._fresh(snap, seq):
                return snap
            generation = self.generation  # before building: a commit meanwhile retires it
            body = build()
            etag = hashlib.blake2b(body, digest_size=12).hexdigest()
            snap = Snapshot(seq, body, etag, generation, time.monotonic())
            self._snapshot = snap
            self.builds += 1
            return snap


def of(app: Flask) -> Board:
    return app.extensions[_KEY]


def _committed(_session, *_args) -> None:
    if has_app_context():
        board = current_app.extensions.get(_KEY)
        if board is not None:
            board.retire()


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = Board()
    if not event.contains(Session, "after_commit", _committed):
        event.listen(Session, "after_commit", _committed)
