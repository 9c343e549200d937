"""gunicorn's threaded worker, serving a busy keep-alive connection in one thread.

Stock gthread hands a connection back to the worker's one event-loop thread after every
request and to a pool thread again for the next: two hand-overs per request, each needing
the GIL. With 32 busy connections per worker that thread waited behind the request
threads, and `GET /api/vms` at 64 clients ran at 0.72 of its rate at 4 (docs/performance.md).
Here the thread that answered a request reads the next one itself when it arrives within
`NEXT_REQUEST_MS`; a quiet connection goes back to the event loop as before.
"""

from __future__ import annotations

import select

from gunicorn.workers.gthread import ThreadWorker

# A client that is not idle sends its next request well within this; the wait holds a
# thread but no CPU (threads are plenty: one per open WebSocket, LOADZONE_THREADS).
NEXT_REQUEST_MS = 20


class KeepAliveWorker(ThreadWorker):
    """gthread, but the answering thread also serves the connection's next request."""

    def handle(self, conn):
        # True: keep the connection. False closes it; gunicorn's own _DEFER (no request
        # arrived yet) sends it to the event loop.
        keep = super().handle(conn)
        while keep is True and self.alive and next_request_soon(conn):
            keep = super().handle(conn)
        return keep


def next_request_soon(conn, wait_ms: int = NEXT_REQUEST_MS) -> bool:
    """Whether the client's next request is read ahead already or arrives within `wait_ms`."""
    if conn.parser.unreader.buf.getvalue():
        return True
    poll = select.poll()
    poll.register(conn.sock, select.POLLIN)
    return bool(poll.poll(wait_ms))
