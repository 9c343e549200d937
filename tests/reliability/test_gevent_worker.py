"""LOADZONE_WORKER=gevent: the same service with greenlets, and every keep-alive connection
gets its turn (web/fairness.py)."""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import api_session
from tests.sockets import Watcher

ADMIN = "admin@example.com"


def test_the_gevent_worker_books_and_tells_the_sockets(server_factory):
    server = server_factory(worker="gevent", admins=ADMIN)
    admin = api_session(server.url, ADMIN)
    alice = api_session(server.url, "alice@example.com")
    assert admin.post(server.url + "/api/vms", json={"id": "vm-1"}, timeout=10).status_code == 201
    watcher = Watcher(server.url, alice.token).connect()
    try:
        answer = alice.post(server.url + "/api/vms/vm-1/book", json={"hours": 1}, timeout=10)
        assert answer.status_code == 200, answer.text
        heard = watcher.wait_for("vm_updated", lambda d: d["id"] == "vm-1" and d["booked_by"])
        assert heard["booked_by"] == "alice@example.com"
    finally:
        watcher.close()


async def _count_answers(port: int, token: str, connections: int, seconds: float) -> list:
    """Keep-alive clients on one event loop, each sending its next request the moment the
    answer is in (as a load generator or a busy proxy does); answers per connection."""
    wire = (
        f"GET /api/vms HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    counts = [0] * connections
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]
    deadline = time.monotonic() + seconds

    async def client(index: int, reader, writer) -> None:
        while time.monotonic() < deadline:
            writer.write(wire)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            await reader.readexactly(int(length.group(1)))
            counts[index] += 1
        writer.close()

    await asyncio.gather(*(client(i, r, w) for i, (r, w) in enumerate(streams)))
    return counts


def test_every_keep_alive_connection_is_served_in_turn(server_factory):
    # Without turns, a greenlet whose client had its next request ready never went back to
    # the hub: one connection was answered back to back while the others waited.
    server = server_factory(worker="gevent")
    token = api_session(server.url, "alice@example.com").token
    # A loop of its own in its own thread: other tests may leave one set in this thread.
    with ThreadPoolExecutor(1) as pool:
        counts = pool.submit(asyncio.run, _count_answers(server.port, token, 8, 3)).result(60)
    assert min(counts) >= max(counts) / 2, counts
