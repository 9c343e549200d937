"""PROMETHEUS_MULTIPROC_DIR: a scrape of one worker adds up what every process recorded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import api_session
from tests.ops.scrape import Scraper, value

pytestmark = pytest.mark.server
LATENCY = "loadzone_http_request_duration_seconds_count"

# Another worker process of the same installation: it served one request and holds a socket.
OTHER_WORKER = """
from loadzone.web import metrics
found = metrics.instruments()
found.requests.labels("/api/vms", "GET", "200").observe(0.01)
metrics.sockets_changed(1)
"""


def test_a_scrape_adds_up_the_files_of_every_process(server_factory, tmp_path, monkeypatch):
    shared = tmp_path / "prometheus"
    shared.mkdir()
    (shared / "counter_999999.db").write_bytes(b"left over from an earlier run")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    server = server_factory(admins="admin@example.com", metrics="on")
    assert not (shared / "counter_999999.db").exists()  # cleared at start
    scrape = Scraper(server.url)
    admin = api_session(server.url, "admin@example.com")
    assert admin.post(f"{server.url}/api/vms", json={"id": "vm-p"}).status_code == 201
    assert admin.get(f"{server.url}/api/vms").status_code == 200
    alone = scrape()

    subprocess.run([sys.executable, "-c", OTHER_WORKER], env=os.environ, check=True, timeout=60)
    together = scrape()

    listed = {"route": "/api/vms", "method": "GET", "status": "200"}
    assert value(alone, LATENCY, **listed) == 1
    assert value(together, LATENCY, **listed) == 2
    assert value(together, "loadzone_bookings", state="active") == 0
    assert any(name.startswith("histogram_") for name in os.listdir(shared))
