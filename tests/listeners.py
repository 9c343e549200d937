"""Real listeners on 127.0.0.1: TCP ports standing in for VMs' SSH ports in health probe
tests, and small HTTP servers standing in for webhook targets and broken servers."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Quiet(socketserver.BaseRequestHandler):
    def handle(self):
        pass  # accept and close, like a port that answers


class Listener:
    """A port that accepts connections (so its backlog never fills) until closed; it can
    listen again on the same port."""

    def __init__(self, port: int = 0):
        self.port = port
        self.server: socketserver.ThreadingTCPServer | None = None
        self.open()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def open(self) -> Listener:
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), _Quiet)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler], **state) -> Iterator[ThreadingHTTPServer]:
    """An HTTP server on a free loopback port, serving from a thread until the block ends;
    `state` becomes attributes of the server, where the handler finds them."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    for name, value in state.items():
        setattr(server, name, value)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
