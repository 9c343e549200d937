"""A real Socket.IO client that records events, for tests against real servers."""

from __future__ import annotations

import queue
import time

import socketio


class Watcher:
    """A python-socketio client that records every event it receives."""

    def __init__(self, base_url: str, token: str | None = None, headers: dict | None = None):
        self.events: queue.Queue = queue.Queue()
        self.seen: list[tuple[str, dict]] = []
        self.claimed: set[int] = set()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        self.base_url = base_url
        self.token = token
        self.headers = headers or {}

    def _record(self, name, data=None):
        self.events.put((name, data))

    def connect(self) -> Watcher:
        auth = {"token": self.token} if self.token else None
        self.client.connect(
            self.base_url,
            auth=auth,
            headers=self.headers,
            transports=["websocket"],
            wait_timeout=10,
        )
        return self

    def wait_for(self, name: str, match=lambda data: True, timeout: float = 10.0) -> dict:
        """The first unclaimed event `name` whose payload satisfies `match`, received already
        or arriving within `timeout`."""
        deadline = time.monotonic() + timeout
        checked = 0
        while True:
            for index in range(checked, len(self.seen)):
                event, data = self.seen[index]
                if index not in self.claimed and event == name and match(data):
                    self.claimed.add(index)
                    return data
            checked = 0
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no {name} event matching within {timeout}s; saw {[n for n, _ in self.seen]}"
                )
            try:
                self.seen.append(self.events.get(timeout=remaining))
            except queue.Empty:
                continue
            checked = len(self.seen) - 1

    def drain(self) -> list[tuple[str, dict]]:
        while True:
            try:
                self.seen.append(self.events.get_nowait())
            except queue.Empty:
                return self.seen

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def sentinel(admin, base_url: str, *watchers, vm_id: str = "sentinel") -> None:
    """Add a VM and wait until every watcher has its last event (the vm_added notification,
    which follows its vm_updated): all earlier events are in."""
    assert admin.post(f"{base_url}/api/vms", json={"id": vm_id}).status_code == 201
    for watcher in watchers:
        watcher.wait_for("notification", lambda d: d["type"] == "vm_added" and d["vm_id"] == vm_id)


def unexplained(events: list[tuple[str, dict]], floor: int = 0) -> list[int]:
    """The `prev` numbers a client never received, above `floor` (what its snapshot covers):
    the browser's gap check (static/js/sequence.js) over a list of received events."""
    have = {data["seq"] for _, data in events}
    return sorted(
        {data["prev"] for _, data in events if data["prev"] > floor and data["prev"] not in have}
    )
