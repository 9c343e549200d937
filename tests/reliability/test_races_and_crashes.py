"""Real server processes: simultaneous writers, two instances on one database, kill -9."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests import conftest

pytestmark = pytest.mark.server
TIMEOUT = 60
_open: list[requests.Session] = []


@pytest.fixture(autouse=True)
def close_sessions(server_factory):
    """Close every client connection first: a server with idle keep-alive ones stops slowly."""
    yield
    while _open:
        _open.pop().close()


def api_session(url: str, email: str) -> requests.Session:
    session = conftest.api_session(url, email)
    _open.append(session)
    return session


def sessions(base_urls: list[str], count: int) -> list[tuple[str, requests.Session]]:
    """`count` different people, spread over the servers, each with a warm connection."""

    def make(index: int):
        url = base_urls[index % len(base_urls)]
        session = api_session(url, f"racer{index}@example.com")
        assert session.get(url + "/api/me", timeout=TIMEOUT).status_code == 200
        return url, session

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(make, range(count)))


def all_at_once(people, method: str, path: str, payload=None) -> list[requests.Response]:
    """Every person sends the same request at the same instant (a barrier releases them)."""
    barrier = threading.Barrier(len(people))

    def send(person):
        url, session = person
        barrier.wait(timeout=TIMEOUT)
        return session.request(method, url + path, json=payload, timeout=TIMEOUT)

    with ThreadPoolExecutor(len(people)) as pool:
        return list(pool.map(send, people))


def statuses(responses) -> Counter:
    return Counter(response.status_code for response in responses)


def audit(session, url: str, **filters) -> list[dict]:
    response = session.get(url + "/api/history", params={"limit": 500, **filters}, timeout=TIMEOUT)
    assert response.status_code == 200
    return response.json()["items"]


def test_fifty_people_book_one_vm_at_the_same_instant(server_factory):
    server = server_factory(admins="admin@example.com")
    admin = api_session(server.url, "admin@example.com")
    assert admin.post(server.url + "/api/vms", json={"id": "hot"}).status_code == 201
    people = sessions([server.url], 50)

    responses = all_at_once(people, "POST", "/api/vms/hot/book", {"hours": 1})

    assert statuses(responses) == {200: 1, 409: 49}, statuses(responses)
    winner = next(r for r in responses if r.status_code == 200).json()["booked_by"]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "already_booked"
    }
    assert admin.get(server.url + "/api/vms/hot").json()["booked_by"] == winner
    books = audit(admin, server.url, vm_id="hot")
    assert [(r["action"], r["user"]) for r in books] == [("book", winner)]


def test_two_instances_on_one_database_have_one_winner(server_factory):
    first = server_factory(admins="admin@example.com")
    second = server_factory(admins="admin@example.com")
    admin = api_session(first.url, "admin@example.com")
    assert admin.post(first.url + "/api/vms", json={"id": "shared"}).status_code == 201
    # The VM added through one instance is visible through the other.
    assert (
        requests.get(
            second.url + "/api/vms/shared", headers=admin.headers, timeout=TIMEOUT
        ).status_code
        == 200
    )
    people = sessions([first.url, second.url], 30)

    responses = all_at_once(people, "POST", "/api/vms/shared/book", {"hours": 2})

    assert statuses(responses) == {200: 1, 409: 29}, statuses(responses)
    winner = next(r for r in responses if r.status_code == 200).json()["booked_by"]
    for url in (first.url, second.url):
        vm = requests.get(url + "/api/vms/shared", headers=admin.headers, timeout=TIMEOUT).json()
        assert vm["booked_by"] == winner
    assert len(audit(admin, first.url, vm_id="shared", action="book")) == 1


def test_other_races_each_have_exactly_one_winner(server_factory):
    server = server_factory(admins="admin@example.com")
    url = server.url
    owner = api_session(url, "owner@example.com")
    admin = api_session(url, "admin@example.com")
    assert admin.post(url + "/api/vms", json={"id": "vm-r"}).status_code == 201
    assert owner.post(url + "/api/vms/vm-r/book", json={"hours": 3}).status_code == 200

    # The owner's scripts and an admin all release at once: one release.
    releasers = [
        (url, api_session(url, email))
        for email in ["owner@example.com"] * 10 + ["admin@example.com"] * 10
    ]
    responses = all_at_once(releasers, "POST", "/api/vms/vm-r/release", {})
    assert statuses(responses) == {200: 1, 409: 19}, statuses(responses)
    assert len(audit(admin, url, vm_id="vm-r", action="release")) == 1

    # Admins create the same group name, differently cased, at once: one group.
    admins = [(url, api_session(url, "admin@example.com")) for _ in range(12)]
    responses = [
        r
        for r in all_at_once(admins, "POST", "/api/groups", {"name": "Race"})
        if r.status_code != 201
    ]
    assert len(responses) == 11
    assert statuses(responses) == {409: 11}
    assert [g["name"] for g in admin.get(url + "/api/groups").json()] == ["Race"]

    # And the same VM id: one VM.
    responses = all_at_once(admins, "POST", "/api/vms", {"id": "twin"})
    assert statuses(responses) == {201: 1, 409: 11}, statuses(responses)


def test_an_acknowledged_write_survives_kill_9(server_factory):
    server = server_factory(admins="admin@example.com")
    admin = api_session(server.url, "admin@example.com")
    alice = api_session(server.url, "alice@example.com")
    for vm_id in ("vm-a", "vm-b", "vm-c"):
        assert admin.post(server.url + "/api/vms", json={"id": vm_id}).status_code == 201
    assert alice.post(server.url + "/api/vms/vm-b/book", json={"hours": 2}).status_code == 200
    assert alice.post(server.url + "/api/vms/vm-b/release", json={}).status_code == 200
    assert alice.post(server.url + "/api/vms/vm-c/book", json={"hours": 2}).status_code == 200
    renewed = alice.post(server.url + "/api/vms/vm-c/renew", json={"hours": 3})
    assert renewed.status_code == 200

    booked = alice.post(server.url + "/api/vms/vm-a/book", json={"hours": 4})
    assert booked.status_code == 200
    server.kill()  # straight after the acknowledgement: no clean shutdown

    again = server_factory(admins="admin@example.com")
    # The token is in the database too, so the same session keeps working.
    vm = alice.get(again.url + "/api/vms/vm-a", timeout=TIMEOUT).json()
    assert vm["booked_by"] == "alice@example.com"
    assert vm["expires_at"] == booked.json()["expires_at"]
    assert (
        alice.get(again.url + "/api/vms/vm-c").json()["expires_at"]
        == (renewed.json()["expires_at"])
    )
    assert alice.get(again.url + "/api/vms/vm-b").json()["booked_by"] is None
    mine = alice.get(again.url + "/api/me/bookings", timeout=TIMEOUT).json()["items"]
    assert [(r["vm_id"], r["action"]) for r in mine] == [
        ("vm-a", "book"),
        ("vm-c", "renew"),
        ("vm-c", "book"),
        ("vm-b", "release"),
        ("vm-b", "book"),
    ]
    assert mine[0]["end"] == booked.json()["expires_at"]
