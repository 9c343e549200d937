"""`lz book`, `renew`, `release`, `status` and `queue` against a real server."""

from __future__ import annotations

import json
import re
import signal
from datetime import datetime

import pytest

from tests.client.lzproc import until

pytestmark = pytest.mark.server


@pytest.fixture
def pool(server, people):
    """Four VMs: vm-1 and vm-2 in group 'perf', vm-3 and vm-4 labelled, each with an address."""
    admin = people["admin"]
    url = server.url
    for n in range(1, 5):
        labels = {"os": "linux", "size": "large" if n == 3 else "small"} if n > 2 else {}
        body = {"id": f"vm-{n}", "address": f"10.0.0.{n}", "labels": labels}
        assert admin.post(f"{url}/api/vms", json=body).status_code == 201
    group = admin.post(f"{url}/api/groups", json={"name": "perf", "vm_ids": ["vm-1", "vm-2"]})
    assert group.status_code == 201
    return group.json()["id"]


def as_user(server, people, name: str) -> dict:
    return {"url": server.url, "token": people[name].token}


def active(server, session, vm_id: str) -> list[dict]:
    answer = session.get(
        f"{server.url}/api/bookings", params={"vm_id": vm_id, "state": "active"}, timeout=10
    )
    return answer.json()["items"]


def request_id(stderr: str) -> int:
    return int(re.search(r"request (\d+)", stderr)[1])


def test_book_prints_the_vm_ids_and_nothing_else(lz, server, people, pool):
    result = lz("book", "--vm", "vm-1", "--hours", "2", **as_user(server, people, "alice"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "vm-1\n"
    assert "booked vm-1" in result.stderr
    [booking] = active(server, people["alice"], "vm-1")
    assert booking["owner"] == "alice@example.com" and booking["heartbeat_s"] is None
    start, end = (datetime.fromisoformat(booking[k]) for k in ("start", "end"))
    assert (end - start).total_seconds() == 2 * 3600


def test_book_json_prints_the_whole_answer(lz, server, people, pool):
    args = ("book", "--vm", "vm-2", "--hours", "1", "--heartbeat", "120", "--json")
    result = lz(*args, **as_user(server, people, "alice"))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["request"] is None
    [booking] = answer["bookings"]
    assert (booking["vm_id"], booking["state"], booking["heartbeat_s"]) == ("vm-2", "active", 120)


def test_book_a_group_by_name_or_id_and_vms_by_labels(lz, server, people, pool):
    alice = as_user(server, people, "alice")
    by_name = lz("book", "--group", "PERF", "--count", "2", "--hours", "1", **alice)
    assert by_name.returncode == 0, by_name.stderr
    assert sorted(by_name.stdout.split("\n")) == ["", "vm-1", "vm-2"]

    by_labels = lz("book", "--label", "os=linux", "--label", "size=large", "--hours", "1", **alice)
    assert (by_labels.returncode, by_labels.stdout) == (0, "vm-3\n"), by_labels.stderr

    people["alice"].post(f"{server.url}/api/vms/vm-1/release", json={})
    by_id = lz("book", "--group", str(pool), "--hours", "1", **alice)
    assert (by_id.returncode, by_id.stdout) == (0, "vm-1\n"), by_id.stderr


def test_refusals_exit_4_with_the_servers_message(lz, server, people, pool):
    bob, alice = as_user(server, people, "bob"), as_user(server, people, "alice")
    assert lz("book", "--vm", "vm-1", "--hours", "1", **bob).returncode == 0

    taken = lz("book", "--vm", "vm-1", "--hours", "1", **alice)
    assert (taken.returncode, taken.stdout) == (4, ""), taken.stderr
    assert "vm-1" in taken.stderr and len(taken.stderr.splitlines()) == 1

    unknown = lz("book", "--vm", "vm-404", "--hours", "1", **alice)
    assert unknown.returncode == 4 and "vm-404" in unknown.stderr

    no_group = lz("book", "--group", "nope", "--hours", "1", **alice)
    assert no_group.returncode == 4 and "no group named 'nope'" in no_group.stderr

    too_many = lz("book", "--group", "perf", "--count", "3", "--hours", "1", **alice)
    assert too_many.returncode == 4

    bad_token = lz("status", url=server.url, token="not-a-token")
    assert bad_token.returncode == 4


def test_a_wait_that_runs_out_leaves_the_queue_and_exits_3(lz, server, people, pool):
    bob, alice = as_user(server, people, "bob"), as_user(server, people, "alice")
    assert lz("book", "--vm", "vm-1", "--hours", "1", **bob).returncode == 0

    result = lz("book", "--vm", "vm-1", "--hours", "1", "--wait", "2s", **alice)

    assert (result.returncode, result.stdout) == (3, ""), result.stderr
    assert "position 1" in result.stderr and "left the queue" in result.stderr
    left = people["alice"].get(f"{server.url}/api/queue/{request_id(result.stderr)}").json()
    assert left["state"] == "cancelled" and left["owner"] == "alice@example.com"
    # --wait 2s asked the server for a minute, the shortest it knows.
    waited = datetime.fromisoformat(left["wait_until"]) - datetime.fromisoformat(left["created_at"])
    assert 59 <= waited.total_seconds() <= 61
    assert people["alice"].get(f"{server.url}/api/queue").json() == []


def test_a_wait_is_granted_when_the_vm_frees_and_shows_the_position(lz, server, people, pool):
    url = server.url
    assert people["bob"].post(f"{url}/api/vms/vm-1/book", json={"hours": 1}).status_code == 200
    ahead = {"vm_id": "vm-1", "hours": 1, "wait": True}
    assert people["carol"].post(f"{url}/api/bookings", json=ahead).status_code == 202

    alice = as_user(server, people, "alice")
    waiting = lz.start("book", "--vm", "vm-1", "--hours", "1", "--wait", "1m", **alice)
    until(lambda: "position 2" in waiting.stderr, what="alice second in the queue")
    assert people["bob"].post(f"{url}/api/vms/vm-1/release", json={}).status_code == 200
    until(lambda: "position 1" in waiting.stderr, what="alice first in the queue")
    [carols] = active(server, people["carol"], "vm-1")
    assert people["carol"].delete(f"{url}/api/bookings/{carols['id']}").status_code == 200

    assert waiting.wait() == 0, waiting.stderr
    assert waiting.stdout == "vm-1\n"
    [alices] = active(server, people["alice"], "vm-1")
    assert alices["owner"] == "alice@example.com" and alices["request_id"] is not None


def test_an_interrupted_wait_leaves_the_queue(lz, server, people, pool):
    assert people["bob"].post(f"{server.url}/api/vms/vm-1/book", json={"hours": 1}).ok
    alice = as_user(server, people, "alice")
    waiting = lz.start("book", "--vm", "vm-1", "--hours", "1", "--wait", "10m", **alice)
    until(lambda: "position 1" in waiting.stderr, what="alice in the queue")

    waiting.process.send_signal(signal.SIGTERM)

    assert waiting.wait(timeout=10) == 128 + signal.SIGTERM
    left = people["alice"].get(f"{server.url}/api/queue/{request_id(waiting.stderr)}").json()
    assert left["state"] == "cancelled"


def test_renew_release_status_and_queue(lz, server, people, pool):
    alice, bob = as_user(server, people, "alice"), as_user(server, people, "bob")
    assert lz("book", "--vm", "vm-1", "--hours", "1", **alice).returncode == 0
    assert lz("book", "--vm", "vm-2", "--hours", "1", **alice).returncode == 0
    [before] = active(server, people["alice"], "vm-1")

    renewed = lz("renew", "vm-1", "--hours", "2", **alice)
    assert (renewed.returncode, renewed.stdout) == (0, ""), renewed.stderr
    [after] = active(server, people["alice"], "vm-1")
    hours = datetime.fromisoformat(after["end"]) - datetime.fromisoformat(before["end"])
    assert hours.total_seconds() == 2 * 3600

    queued = people["bob"].post(
        f"{server.url}/api/bookings", json={"vm_id": "vm-1", "hours": 1, "wait": True}
    )
    assert queued.status_code == 202
    status = json.loads(lz("status", "--json", **alice).stdout)
    assert status["user"] == "alice@example.com"
    assert sorted(b["vm_id"] for b in status["bookings"]) == ["vm-1", "vm-2"]
    assert status["requests"] == []
    text = lz("status", **alice).stdout.splitlines()
    assert len(text) == 2 and all("active" in line for line in text)
    assert "position 1" in lz("status", **bob).stdout
    [waiting] = json.loads(lz("queue", "--json", **alice).stdout)
    assert waiting["owner"] == "bob@example.com" and waiting["vm_id"] == "vm-1"
    assert "bob@example.com" in lz("queue", **alice).stdout

    [vm2] = active(server, people["alice"], "vm-2")
    released = lz("release", "vm-1", "--booking", str(vm2["id"]), **alice)
    assert released.returncode == 0, released.stderr
    assert active(server, people["alice"], "vm-2") == []
    [handed_on] = active(server, people["alice"], "vm-1")  # to Bob's waiting request
    assert handed_on["owner"] == "bob@example.com"
    again = lz("release", "--booking", str(vm2["id"]), **alice)
    assert again.returncode == 4
