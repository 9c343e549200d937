"""Durable delivery on real servers: a real SMTP server, a real HTTP target, kill -9, and
two instances on one database. Each delivery arrives once, with a key stable across attempts."""

from __future__ import annotations

import json
import queue
import time
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from tests.conftest import api_session, free_port
from tests.listeners import http_server
from tests.realtime.test_expiry import ADMIN, book_and_expire

pytestmark = pytest.mark.server


def deliveries(db_url: str) -> list[dict]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            result = conn.execute(text("SELECT * FROM deliveries ORDER BY id"))
            return [dict(row._mapping) for row in result]
    finally:
        engine.dispose()


def wait_for(condition, timeout: float = 30, every: float = 0.05):
    """Poll the database until `condition()` gives a true value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


class FlakyInbox:
    """An SMTP handler that answers the first `refuse` messages with 451, then accepts."""

    def __init__(self, refuse: int = 0):
        self.refuse = refuse
        self.seen: list[str] = []  # Message-ID of every attempt
        self.accepted: queue.Queue = queue.Queue()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        self.seen.append(message["Message-ID"])
        if len(self.seen) <= self.refuse:
            return "451 Try again later"
        self.accepted.put((envelope.rcpt_tos, message))
        return "250 OK"


def test_a_warning_mailed_while_smtp_is_down_survives_kill_9(server_factory, db_url):
    port = free_port()  # nothing listens here yet: the mail server is down
    server = server_factory(admins=ADMIN, smtp_url=f"smtp://127.0.0.1:{port}")
    alice, admin = api_session(server.url, "alice@example.com"), api_session(server.url, ADMIN)
    book_and_expire(server.url, alice, admin, "vm-1", 1200)  # warned at once, ends later

    # The warning committed, and its mail has failed at least once.
    (row,) = wait_for(lambda: [r for r in deliveries(db_url) if r["attempts"] >= 1])
    assert row["channel"] == "mail" and row["state"] == "pending"
    server.kill()

    inbox = FlakyInbox(refuse=1)
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        server.start()
        recipients, message = inbox.accepted.get(timeout=30)
        assert recipients == ["alice@example.com"]
        body = message.get_payload(decode=True).decode()
        assert "vm-1" in body and "/extend/" in body
        (row,) = wait_for(lambda: [r for r in deliveries(db_url) if r["state"] == "sent"])
        # One refused attempt and one accepted, under one Message-ID; nothing after "sent".
        assert inbox.seen == [f"<{row['key']}@localhost>"] * 2
        assert inbox.accepted.empty()
    finally:
        smtp.stop()


class Target(BaseHTTPRequestHandler):
    """A webhook target: answers from `server.answers` (then 200), after `server.delay`."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.server.delay)  # the target is slow, not the test
        status = self.server.answers.pop(0) if self.server.answers else 200
        self.server.received.put((self.headers["Idempotency-Key"], status, body))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def target():
    with http_server(Target, received=queue.Queue(), answers=[], delay=0.0) as server:
        server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        yield server


def test_a_webhook_answering_500_is_retried_with_the_same_key(server_factory, target, db_url):
    target.answers = [500]
    url = server_factory(admins=ADMIN, webhook_url=target.url).url
    admin = api_session(url, ADMIN)
    admin.post(f"{url}/api/vms", json={"id": "vm-1"})

    first_key, status, _ = target.received.get(timeout=15)
    assert status == 500
    key, status, body = target.received.get(timeout=15)
    assert (key, status) == (first_key, 200)
    assert body["notification"]["type"] == "vm_added"

    # A later delivery arrives, and the first one was never sent again after its 200.
    admin.post(f"{url}/api/vms", json={"id": "vm-2"})
    later, status, _ = target.received.get(timeout=15)
    assert later != first_key and status == 200
    assert target.received.empty()
    states = wait_for(lambda: {r["key"]: r for r in deliveries(db_url) if r["state"] == "sent"})
    assert states[first_key]["attempts"] == 2 and states[first_key]["sent_at"]


def test_two_instances_send_each_delivery_once(server_factory, target, db_url):
    target.delay = 0.3
    one = server_factory(admins=ADMIN, webhook_url=target.url)
    two = server_factory(admins=ADMIN, webhook_url=target.url)
    admins = [api_session(one.url, ADMIN), api_session(two.url, ADMIN)]
    started = time.monotonic()
    for index in range(12):
        session, server = admins[index % 2], (one, two)[index % 2]
        answer = session.post(f"{server.url}/api/vms", json={"id": f"vm-{index}"})
        assert answer.status_code == 201
    # The slow target costs the couriers, never the requests.
    assert time.monotonic() - started < 12 * target.delay

    sent = wait_for(lambda: len([r for r in deliveries(db_url) if r["state"] == "sent"]) == 12)
    assert sent
    keys = []
    while not target.received.empty():
        keys.append(target.received.get_nowait()[0])
    assert len(keys) == 12 and len(set(keys)) == 12
    assert set(keys) == {r["key"] for r in deliveries(db_url)}
