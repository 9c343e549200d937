"""A busy keep-alive connection keeps its thread (web/keepalive.py); a quiet one goes back
to the event loop; either way every request on it is answered, in order."""

from __future__ import annotations

import io
import socket
import time
from types import SimpleNamespace

from loadzone.web.keepalive import NEXT_REQUEST_MS, next_request_soon


def _get(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def _answers(sock: socket.socket, count: int) -> list[int]:
    """Read `count` responses (each with Content-Length) off the socket; their statuses."""
    stream = sock.makefile("rb")
    statuses = []
    for _ in range(count):
        status = int(stream.readline().split()[1])
        length = 0
        while (line := stream.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        stream.read(length)
        statuses.append(status)
    return statuses


def test_requests_back_to_back_pipelined_and_after_a_pause_share_one_connection(
    server_factory,
):
    server = server_factory()
    port = server.port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for _ in range(20):  # back to back: the same thread reads each next request
            sock.sendall(_get("/healthz", port))
            assert _answers(sock, 1) == [200]
        sock.sendall(_get("/healthz", port) + _get("/api/openapi.json", port))  # read ahead
        assert _answers(sock, 2) == [200, 200]
        # A pause longer than the thread waits: the event loop has the connection again.
        time.sleep(3 * NEXT_REQUEST_MS / 1000)
        sock.sendall(_get("/healthz", port))
        assert _answers(sock, 1) == [200]


def _conn(sock: socket.socket, read_ahead: bytes = b"") -> SimpleNamespace:
    # The two parts of gunicorn's connection that the check reads.
    return SimpleNamespace(
        sock=sock, parser=SimpleNamespace(unreader=SimpleNamespace(buf=io.BytesIO(read_ahead)))
    )


def test_the_next_request_is_noticed_waiting_read_ahead_or_not_at_all():
    server_end, client_end = socket.socketpair()
    with server_end, client_end:
        assert not next_request_soon(_conn(server_end), wait_ms=1)
        assert next_request_soon(_conn(server_end, read_ahead=b"GET / HTTP/1.1\r\n"), wait_ms=1)
        client_end.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert next_request_soon(_conn(server_end), wait_ms=1000)
