"""/metrics of a real server process: the token, and figures that move with bookings."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import api_session
from tests.ops.scrape import Scraper, value

pytestmark = pytest.mark.server
TOKEN = "metrics-secret-7f3a"
LATENCY = "loadzone_http_request_duration_seconds_count"


def test_metrics_need_the_token(server_factory):
    server = server_factory(metrics="on", metrics_token=TOKEN)
    url = server.url + "/metrics"

    bare = requests.get(url, timeout=10)
    wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=10)
    right = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)

    for refused in (bare, wrong):
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "not_signed_in"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "loadzone_" not in refused.text
    assert right.status_code == 200
    assert "loadzone_database_up 1.0" in right.text


def test_figures_move_with_bookings_the_queue_sockets_and_hooks(server_factory, watcher_factory):
    server = server_factory(
        admins="admin@example.com", metrics="on", metrics_token=TOKEN, hook_release="/bin/false"
    )
    url, scrape = server.url, Scraper(server.url, TOKEN)
    admin = api_session(url, "admin@example.com")
    alice = api_session(url, "alice@example.com")
    bob = api_session(url, "bob@example.com")
    assert admin.post(f"{url}/api/vms", json={"id": "vm-m"}).status_code == 201
    before = scrape()
    assert value(before, "loadzone_bookings", state="active") == 0

    booked = alice.post(f"{url}/api/bookings", json={"vm_id": "vm-m", "hours": 1})
    assert booked.status_code == 201, booked.text
    queued = bob.post(f"{url}/api/bookings", json={"vm_id": "vm-m", "hours": 1, "wait": True})
    assert queued.status_code == 202, queued.text
    after = scrape()

    assert value(after, "loadzone_bookings", state="active") == 1
    assert value(after, "loadzone_bookings_started_total", how="book") == 1
    post_bookings = {"route": "/api/bookings", "method": "POST"}
    assert value(before, LATENCY, status="201", **post_bookings) == 0
    assert value(after, LATENCY, status="201", **post_bookings) == 1
    assert value(after, LATENCY, status="202", **post_bookings) == 1
    assert value(after, "loadzone_queue_waiting") == 1
    assert value(after, "loadzone_queue_changes_total", what="joined") == 1
    assert value(after, "loadzone_queue_oldest_wait_seconds") >= 0

    # Released: the release hook fails, so the VM goes to maintenance and the queue waits on.
    booking_id = booked.json()["bookings"][0]["id"]
    assert alice.delete(f"{url}/api/bookings/{booking_id}").status_code == 200
    scrape.until("loadzone_hook_runs", 1, kind="release", state="failed")
    released = scrape()
    assert value(released, "loadzone_bookings", state="active") == 0
    assert value(released, "loadzone_bookings_ended_total", reason="manual") == 1

    watcher = watcher_factory(url, alice.token)
    assert value(scrape(), "loadzone_sockets_connected") == 1
    watcher.close()
    scrape.until("loadzone_sockets_connected", 0)


def test_the_route_label_is_the_rule_not_the_path(server_factory):
    server = server_factory(admins="admin@example.com", metrics="on")
    admin = api_session(server.url, "admin@example.com")
    assert admin.post(f"{server.url}/api/vms", json={"id": "vm-r"}).status_code == 201
    assert admin.get(f"{server.url}/api/vms/vm-r").status_code == 200
    assert admin.get(f"{server.url}/api/vms/no-such-vm").status_code == 404
    assert requests.get(f"{server.url}/no/such/page", timeout=10).status_code == 404

    text = requests.get(server.url + "/metrics", timeout=10).text  # no token configured

    assert 'route="/api/vms/<vm_id>"' in text
    assert "vm-r" not in text and "no-such-vm" not in text and "/no/such" not in text
    assert 'route="<unmatched>"' in text
