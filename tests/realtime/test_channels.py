"""E-mail to the owner through a real SMTP server, and the JSON webhook through a real HTTP
server; neither may slow a request down."""

from __future__ import annotations

import json
import queue
import socket
import time
from http.server import BaseHTTPRequestHandler

import pytest

from tests.conftest import api_session
from tests.listeners import http_server
from tests.realtime.test_expiry import ADMIN, book_and_expire

pytestmark = pytest.mark.server


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.put(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    with http_server(Hook, received=queue.Queue()) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", server.received


def test_owner_gets_warning_and_release_mail(server_factory, smtp):
    controller, inbox = smtp
    url = server_factory(admins=ADMIN, smtp_url=f"smtp://127.0.0.1:{controller.port}").url
    alice, admin = api_session(url, "alice@example.com"), api_session(url, ADMIN)
    book_and_expire(url, alice, admin, "vm-1", 2)

    subjects = []
    for _ in range(2):
        recipients, message = inbox.next()
        assert recipients == ["alice@example.com"]
        assert "vm-1" in message.get_payload(decode=True).decode()
        subjects.append(message["Subject"])
    assert sorted(subjects) == [
        "Your LoadZone booking ends soon",
        "Your LoadZone booking has ended",
    ]


def test_webhook_receives_every_notification(server_factory, webhook):
    hook_url, received = webhook
    url = server_factory(admins=ADMIN, webhook_url=hook_url).url
    alice, admin = api_session(url, "alice@example.com"), api_session(url, ADMIN)
    admin.post(f"{url}/api/vms", json={"id": "vm-1"})
    alice.post(f"{url}/api/vms/vm-1/book", json={"hours": 1})

    first, second = received.get(timeout=10), received.get(timeout=10)
    assert [first["notification"]["type"], second["notification"]["type"]] == [
        "vm_added",
        "vm_booked",
    ]
    assert second["text"].startswith("LoadZone: ") and "vm-1" in second["text"]


def test_dead_webhook_slows_no_request(server_factory):
    # A peer that accepts connections and never answers: each post waits for its timeout.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(100)
    try:
        port = silent.getsockname()[1]
        url = server_factory(admins=ADMIN, webhook_url=f"http://127.0.0.1:{port}/").url
        admin = api_session(url, ADMIN)
        durations = []
        for index in range(10):
            started = time.monotonic()
            response = admin.post(f"{url}/api/vms", json={"id": f"vm-{index}"})
            durations.append(time.monotonic() - started)
            assert response.status_code == 201
        # A blocking post would cost the 5 s timeout on each request.
        assert max(durations) < 2, durations
    finally:
        silent.close()
