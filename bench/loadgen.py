"""The one load generator for LoadZone and the baseline: N keep-alive HTTP/1.1 clients.

Each client is a coroutine on one asyncio loop speaking raw HTTP/1.1 over its own
connection, so the generator spends a few tens of microseconds per request and the servers,
not the clients, are what is measured. A client repeats its script (one or more requests)
until the deadline; a unit counts when every request in it answered 200.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from .measure import percentile


@dataclass
class Request:
    method: str
    path: str
    body: bytes | None = None

    def encode(self, host: str, token: str | None) -> bytes:
        # Like a browser or `requests`: compressed answers are welcome (the baseline sends
        # none, LoadZone compresses large lists).
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", "Accept-Encoding: gzip"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if self.body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(self.body)}"]
        elif self.method != "GET":
            lines.append("Content-Length: 0")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + (self.body or b"")


@dataclass
class Client:
    """One connection: its bearer token and the requests it repeats."""

    token: str | None
    script: list[Request]


@dataclass
class Result:
    units: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    body_bytes: int = 0

    @property
    def rate(self) -> float:
        return self.units / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


async def _response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """Read one response: (status, body length, whether the server closes the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    size = 0
    if "content-length" in headers:
        size = int(headers["content-length"])
        await reader.readexactly(size)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            chunk = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(chunk + 2)
            size += chunk
            if chunk == 0:
                break
    closing = headers.get("connection", "").lower() == "close" or lines[0].startswith("HTTP/1.0")
    return status, size, closing


async def _run_client(connection, host, port, client, deadline, out: Result) -> None:
    wires = [r.encode(f"{host}:{port}", client.token) for r in client.script]
    reader, writer = connection
    try:
        while time.monotonic() < deadline:
            began, ok = time.perf_counter(), True
            for wire in wires:
                try:
                    writer.write(wire)
                    status, size, closing = await _response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    status, size, closing = 0, 0, True
                ok = ok and status == 200
                out.body_bytes = max(out.body_bytes, size)
                if closing:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
            if time.monotonic() > deadline:
                break  # answered after the end: neither counted nor timed
            if ok:
                out.units += 1
                out.latencies_ms.append((time.perf_counter() - began) * 1000)
            else:
                out.errors += 1
    finally:
        writer.close()


async def _run(host, port, clients, seconds) -> Result:
    # Every connection is open before the clock starts.
    connections = await asyncio.gather(*(asyncio.open_connection(host, port) for _ in clients))
    out = Result(0, 0, seconds)
    began = time.monotonic()
    await asyncio.gather(
        *(
            _run_client(conn, host, port, c, began + seconds, out)
            for conn, c in zip(connections, clients, strict=True)
        )
    )
    out.seconds = seconds
    return out


def run(base_url: str, clients: list[Client], seconds: float) -> Result:
    """Run the clients against `base_url` (http://host:port) for `seconds`."""
    host, port = base_url.removeprefix("http://").split(":")
    return asyncio.run(_run(host, int(port), clients, seconds))
