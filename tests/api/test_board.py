"""The board: the whole VM list served from a snapshot that follows every committed change."""

from __future__ import annotations

import gzip
import json

from loadzone.inventory import board
from tests.conftest import sign_in


def test_same_list_is_built_once_and_a_held_copy_gets_304(app, stocked, alice):
    first = alice.get("/api/vms")
    builds = board.of(app).builds
    again = alice.get("/api/vms")
    assert again.get_data() == first.get_data()
    assert board.of(app).builds == builds
    assert first.headers["ETag"] == again.headers["ETag"]
    held = alice.get("/api/vms", headers={"If-None-Match": first.headers["ETag"]})
    assert held.status_code == 304
    assert held.get_data() == b""
    assert held.headers["X-LoadZone-Seq"] == first.headers["X-LoadZone-Seq"]


def test_a_change_gives_a_new_list_and_etag(stocked, alice):
    before = alice.get("/api/vms")
    assert alice.post("/api/vms/vm-free/book", json={"hours": 1}).status_code == 200
    after = alice.get("/api/vms", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert int(after.headers["X-LoadZone-Seq"]) > int(before.headers["X-LoadZone-Seq"])
    vms = {vm["id"]: vm for vm in after.get_json()}
    assert vms["vm-free"]["booked_by"] == "alice@example.com"


def test_a_change_made_by_another_instance_is_seen(app_factory, stocked, alice):
    # A second app on the same database stands for another process: its commit does not
    # touch this app's snapshot, only the event number tells of it.
    alice.get("/api/vms")
    other = sign_in(app_factory(admins=("admin@example.com",)), "bob@example.com")
    assert other.post("/api/vms/vm-free/book", json={"hours": 1}).status_code == 200
    vms = {vm["id"]: vm for vm in alice.get("/api/vms").get_json()}
    assert vms["vm-free"]["booked_by"] == "bob@example.com"


def test_filtered_lists_are_not_the_board(stocked, alice):
    alice.get("/api/vms")
    booked = alice.get("/api/vms?status=booked")
    assert [vm["id"] for vm in booked.get_json()] == ["vm-booked"]
    assert "ETag" not in booked.headers


def test_a_large_list_is_gzipped_for_clients_that_accept_it(admin, alice, make_vm):
    for index in range(60):
        make_vm(f"vm-{index:03d}", description="x" * 200)
    plain = alice.get("/api/vms")
    assert len(plain.get_data()) > board.GZIP_OVER
    assert "Content-Encoding" not in plain.headers
    packed = alice.get("/api/vms", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.get_data()) < len(plain.get_data()) / 4
    assert json.loads(gzip.decompress(packed.get_data())) == plain.get_json()
