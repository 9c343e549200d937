"""Tokens and sessions checked a moment ago, kept while no credential changed anywhere.

Every revoked token and every ended session bumps the credentials number on the counter row
(`core/sequence.py`) in the transaction that makes the change, and every request reads
that number with the event number, in one statement. While the number stands still an
answer kept here is still what the database would say, so a token revoked on another
instance or worker stops working at the next request everywhere. Entries also expire after
MAX_AGE, for changes made behind the app's back (a restore, plain SQL).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

from flask import Flask, current_app

_KEY = "loadzone.checked"
MAX_AGE = 5.0  # seconds
MAX_ENTRIES = 10_000


class Checked:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = -1
        self._entries: dict[Hashable, tuple[object, float]] = {}

    def lookup(self, key: Hashable, version: int, load: Callable[[], object]) -> object:
        """The kept answer for `key` at credentials `version`, else `load()` (kept unless
        None: a token that fails is asked about again)."""
        entry = self._entries.get(key)
        if entry is not None and version == self._version:
            value, at = entry
            if time.monotonic() - at < MAX_AGE:
                return value
        value = load()
        if value is not None:
            self._keep(key, value, version)
        return value

    def _keep(self, key: Hashable, value: object, version: int) -> None:
        with self._lock:
            if version < self._version:
                return  # read before a change another request has seen: not worth keeping
            if version > self._version or len(self._entries) >= MAX_ENTRIES:
                self._entries = {}
                self._version = version
            self._entries[key] = (value, time.monotonic())


def of_app() -> Checked:
    return current_app.extensions[_KEY]


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = Checked()
