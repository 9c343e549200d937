"""Health probes in a real server: a VM's port closes and opens, every browser hears it, and
a pool claim passes the VM by while it is down."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import api_session
from tests.listeners import Listener

pytestmark = pytest.mark.server


@pytest.fixture
def port():
    listener = Listener()
    yield listener
    listener.close()


def health_is(vm_id: str, value: str):
    return lambda data: data["id"] == vm_id and data["health"] == value


def test_a_vm_goes_down_when_its_port_closes_and_pools_skip_it(
    server_factory, watcher_factory, port
):
    spare = Listener()
    try:
        server = server_factory(admins="admin@example.com", health_seconds="0.2")
        url = server.url
        admin = api_session(url, "admin@example.com")
        alice = api_session(url, "alice@example.com")
        watcher = watcher_factory(url, alice.token)
        group = admin.post(f"{url}/api/groups", json={"name": "lab"}).json()["id"]
        for vm_id, address in (("vm-a", port.address), ("vm-b", spare.address)):
            body = {"id": vm_id, "group": group, "address": address}
            assert admin.post(f"{url}/api/vms", json=body).status_code == 201
        up = watcher.wait_for("vm_updated", health_is("vm-a", "up"))
        assert up["health_since"]
        watcher.wait_for("vm_updated", health_is("vm-b", "up"))

        port.close()
        down = watcher.wait_for("vm_updated", health_is("vm-a", "down"))
        assert down["health_since"] > up["health_since"]
        listed = alice.get(f"{url}/api/vms/vm-a").json()
        assert listed["health"] == "down"

        claimed = alice.post(f"{url}/api/bookings", json={"group": group, "hours": 1})
        assert claimed.status_code == 201, claimed.text
        assert [b["vm_id"] for b in claimed.json()["bookings"]] == ["vm-b"]
        refused = alice.post(f"{url}/api/bookings", json={"group": group, "hours": 1})
        assert refused.status_code == 409
        named = alice.post(f"{url}/api/bookings", json={"vm_id": "vm-a", "hours": 1})
        assert named.status_code == 201, named.text

        port.open()
        watcher.wait_for("vm_updated", health_is("vm-a", "up"))
        # Many rounds ran meanwhile; vm_updated came only with a change of health or holder.
        seen = [d for n, d in watcher.drain() if n == "vm_updated" and d["id"] == "vm-a"]
        assert [d["health"] for d in seen] == ["unknown", "up", "down", "down", "up"]
        assert [d["booked_by"] for d in seen][2:4] == [None, "alice@example.com"]
    finally:
        spare.close()


def test_with_probes_off_every_vm_is_unknown(server_factory, db_url, port):
    server = server_factory(admins="admin@example.com")
    url = server.url
    admin = api_session(url, "admin@example.com")
    body = {"id": "vm-a", "address": port.address}
    assert admin.post(f"{url}/api/vms", json=body).json()["health"] == "unknown"
    server.stop()
    # A verdict left from a time probes ran is not shown once they are off.
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("UPDATE vms SET health = 'up'"))
    engine.dispose()
    server.start()
    assert admin.get(f"{url}/api/vms/vm-a").json()["health"] == "unknown"
