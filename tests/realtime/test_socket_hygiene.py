"""Sockets follow their credentials: sign-out and token revocation close the sockets they
opened, on every instance, within 2 seconds."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.conftest import REDIS_URL, api_session

pytestmark = pytest.mark.server
ALICE = "alice@example.com"
LIMIT = 2.0


def closing(watcher) -> threading.Event:
    """Set when the server closes the watcher's socket."""
    closed = threading.Event()
    watcher.client.on("disconnect", lambda *_: closed.set())
    return closed


def cookie_of(session: requests.Session) -> dict:
    return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies)}


@pytest.fixture
def pair(server_factory):
    """Two instances sharing the database and Redis."""
    return server_factory(redis_url=REDIS_URL), server_factory(redis_url=REDIS_URL)


def test_revoked_token_closes_its_sockets_on_every_instance(pair, watcher_factory):
    first, second = pair
    alice = api_session(first.url, ALICE)
    spare = alice.post(f"{first.url}/api/me/tokens", json={"name": "spare"}).json()
    revoked = [watcher_factory(s.url, alice.token) for s in (first, second)]
    kept = watcher_factory(second.url, spare["token"])
    closed = [closing(w) for w in revoked]
    kept_closed = closing(kept)
    token_id = next(
        t["id"] for t in alice.get(f"{first.url}/api/me/tokens").json() if t["name"] == "tests"
    )

    started = time.monotonic()
    answer = requests.delete(
        f"{first.url}/api/me/tokens/{token_id}",
        headers={"Authorization": f"Bearer {spare['token']}"},
    )
    assert answer.status_code == 200, answer.text
    for event in closed:
        assert event.wait(LIMIT + 1), "a socket of the revoked token stayed open"
    took = time.monotonic() - started
    assert took < LIMIT, took
    assert not kept_closed.wait(1.2) and kept.client.connected  # another token's socket stays
    print(
        f"socket hygiene[token]: both instances closed the revoked token's sockets in {took:.2f} s"
    )


def test_sign_out_closes_the_browsers_sockets_on_every_instance(pair, watcher_factory):
    first, second = pair
    browser = requests.Session()
    assert browser.post(f"{first.url}/api/auth/login", json={"email": ALICE}).status_code == 200
    other = requests.Session()  # a second browser of the same person: its session ends too
    assert other.post(f"{second.url}/api/auth/login", json={"email": ALICE}).status_code == 200
    token_user = api_session(first.url, ALICE)  # scripts keep working after a sign-out
    sockets = [
        watcher_factory(first.url, headers=cookie_of(browser)),
        watcher_factory(second.url, headers=cookie_of(browser)),
        watcher_factory(second.url, headers=cookie_of(other)),
    ]
    scripted = watcher_factory(second.url, token_user.token)
    closed = [closing(w) for w in sockets]
    scripted_closed = closing(scripted)

    started = time.monotonic()
    assert browser.post(f"{first.url}/api/auth/logout", json={}).status_code == 200
    for event in closed:
        assert event.wait(LIMIT + 1), "a socket of the ended session stayed open"
    took = time.monotonic() - started
    assert took < LIMIT, took
    assert not scripted_closed.wait(1.2) and scripted.client.connected
    print(f"socket hygiene[sign-out]: 3 sockets on 2 instances closed in {took:.2f} s")
