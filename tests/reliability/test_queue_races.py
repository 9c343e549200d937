"""Two instances, releases racing on both, a queue to hand VMs to: each request once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import REDIS_URL
from tests.reliability.test_races_and_crashes import (
    TIMEOUT,
    api_session,
    close_sessions,  # noqa: F401  (autouse fixture)
)

pytestmark = pytest.mark.server
VMS = [f"race-{n}" for n in range(8)]


def test_two_instances_grant_each_waiting_request_exactly_once(server_factory):
    first = server_factory(admins="admin@example.com", redis_url=REDIS_URL)
    second = server_factory(admins="admin@example.com", redis_url=REDIS_URL)
    urls = [first.url, second.url]
    admin = api_session(first.url, "admin@example.com")
    group = admin.post(first.url + "/api/groups", json={"name": "Race"}).json()
    owners = []
    for index, vm_id in enumerate(VMS):
        assert admin.post(first.url + "/api/vms", json={"id": vm_id, "group": group["id"]}).ok
        owner = api_session(urls[index % 2], f"owner{index}@example.com")
        assert owner.post(urls[index % 2] + f"/api/vms/{vm_id}/book", json={"hours": 2}).ok
        owners.append((urls[index % 2], owner, vm_id))
    # Five requests for one VM and one for three: eight VMs for eight wanted.
    waiting = []
    for index, count in enumerate([1, 3, 1, 1, 1, 1]):
        person = api_session(urls[index % 2], f"waiter{index}@example.com")
        body = {"group": group["id"], "hours": 1, "count": count, "wait": True}
        answer = person.post(urls[index % 2] + "/api/bookings", json=body, timeout=TIMEOUT)
        assert answer.status_code == 202, answer.text
        waiting.append(answer.json()["request"])

    releasers = [(url, owner) for url, owner, _vm in owners]
    paths = {id(owner): f"/api/vms/{vm_id}/release" for _url, owner, vm_id in owners}
    responses = all_at_once_each(releasers, paths)

    assert Counter(r.status_code for r in responses) == {200: 8}
    for url in urls:
        for request in waiting:
            shown = requests.get(
                f"{url}/api/queue/{request['id']}", headers=admin.headers, timeout=TIMEOUT
            ).json()
            assert shown["state"] == "granted", shown
            assert len(shown["booking_ids"]) == request["count"]
    vms = admin.get(first.url + "/api/vms", timeout=TIMEOUT).json()
    holders = Counter(vm["booked_by"] for vm in vms)
    assert holders == {f"waiter{i}@example.com": c for i, c in enumerate([1, 3, 1, 1, 1, 1])}
    books = admin.get(
        first.url + "/api/history", params={"action": "book", "limit": 500}, timeout=TIMEOUT
    ).json()["items"]
    granted = [r for r in books if r["actor"] is None]
    assert len(granted) == 8 and len({r["booking_id"] for r in granted}) == 8


def all_at_once_each(people, paths):
    """Every person posts their own path at the same instant (a barrier releases them)."""
    barrier = threading.Barrier(len(people))

    def send(person):
        url, session = person
        barrier.wait(timeout=TIMEOUT)
        return session.post(url + paths[id(session)], json={}, timeout=TIMEOUT)

    with ThreadPoolExecutor(len(people)) as pool:
        return list(pool.map(send, people))
