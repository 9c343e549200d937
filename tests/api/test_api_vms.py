"""VMs over HTTP: list and filters, add, edit, delete, book, renew, release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loadzone.core.timeutil import parse_iso
from tests.api.conftest import delete, error_of, snapshot
from tests.conftest import sign_in


def instant(text: str) -> datetime:
    return parse_iso(text)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [vm["id"] for vm in response.get_json()]


# -- list ----------------------------------------------------------------------------------


def test_list_is_a_plain_array_with_the_seed_fields(stocked, alice):
    response = alice.get("/api/vms")
    assert response.status_code == 200
    vms = {vm["id"]: vm for vm in response.get_json()}
    assert list(vms) == ["vm-booked", "vm-free", "vm-maint"]
    for vm in vms.values():
        assert {"id", "group", "booked_by", "expires_at"} <= set(vm)
    assert vms["vm-free"]["group"] == stocked["id"]
    assert vms["vm-booked"]["booked_by"] == "alice@example.com"
    assert vms["vm-booked"]["status"] == "booked"
    assert vms["vm-maint"]["status"] == "maintenance"
    assert (vms["vm-free"]["booked_by"], vms["vm-free"]["expires_at"]) == (None, None)


def test_list_filters(stocked, alice):
    gid = stocked["id"]
    assert ids(alice.get(f"/api/vms?group={gid}")) == ["vm-free"]
    assert ids(alice.get("/api/vms?group=none")) == ["vm-booked", "vm-maint"]
    assert ids(alice.get("/api/vms?group=999")) == []
    assert ids(alice.get("/api/vms?status=free")) == ["vm-free"]
    assert ids(alice.get("/api/vms?status=booked")) == ["vm-booked"]
    assert ids(alice.get("/api/vms?status=maintenance")) == ["vm-maint"]
    assert ids(alice.get("/api/vms?q=SPARE")) == ["vm-free"]
    assert ids(alice.get("/api/vms?q=alice")) == ["vm-booked"]
    assert ids(alice.get("/api/vms?q=%20maint%20")) == ["vm-maint"]
    assert ids(alice.get("/api/vms?q=nothing-like-this")) == []
    assert ids(alice.get(f"/api/vms?group={gid}&status=booked")) == []
    assert ids(alice.get("/api/vms?group=none&status=booked&q=vm")) == ["vm-booked"]


def test_get_one_vm_and_unknown_vm(stocked, alice):
    vm = alice.get("/api/vms/vm-booked").get_json()
    assert vm["booked_by"] == "alice@example.com"
    error_of(alice.get("/api/vms/ghost"), 404, "vm_not_found")


# -- add / edit / delete -------------------------------------------------------------------


def test_add_vm(admin, alice):
    group = admin.post("/api/groups", json={"name": "G"}).get_json()
    response = admin.post(
        "/api/vms", json={"id": "vm-9", "group": group["id"], "description": "fast"}
    )
    assert response.status_code == 201
    vm = response.get_json()
    assert vm == alice.get("/api/vms/vm-9").get_json()
    assert (vm["group"], vm["description"], vm["booked_by"], vm["status"]) == (
        group["id"],
        "fast",
        None,
        "free",
    )
    assert admin.get(f"/api/groups/{group['id']}").get_json()["vm_ids"] == ["vm-9"]


def test_add_existing_vm_is_409(admin, make_vm):
    make_vm("vm-1")
    before = snapshot(admin)
    error_of(admin.post("/api/vms", json={"id": "vm-1"}), 409, "vm_exists")
    assert snapshot(admin) == before


@pytest.mark.parametrize(("group", "status"), [(999, 404), (0, 400), (2**31, 400), (10**30, 400)])
def test_add_vm_to_unknown_group(admin, group, status):
    error_of(admin.post("/api/vms", json={"id": "vm-1", "group": group}), status)
    assert admin.get("/api/vms").get_json() == []


def test_patch_group_description_and_maintenance(stocked, admin, alice):
    other = admin.post("/api/groups", json={"name": "Other"}).get_json()
    vm = admin.patch(
        "/api/vms/vm-free",
        json={"group": other["id"], "description": "moved", "maintenance": True},
    ).get_json()
    assert (vm["group"], vm["description"], vm["maintenance"], vm["status"]) == (
        other["id"],
        "moved",
        True,
        "maintenance",
    )
    assert alice.get(f"/api/groups/{stocked['id']}").get_json()["vm_ids"] == []
    assert alice.get(f"/api/groups/{other['id']}").get_json()["vm_ids"] == ["vm-free"]
    error_of(alice.post("/api/vms/vm-free/book", json={"hours": 1}), 409, "in_maintenance")
    vm = admin.patch("/api/vms/vm-free", json={"group": None, "maintenance": False}).get_json()
    assert (vm["group"], vm["status"]) == (None, "free")
    assert alice.post("/api/vms/vm-free/book", json={"hours": 1}).status_code == 200


def test_patch_to_unknown_group_is_404_and_changes_nothing(stocked, admin):
    before = snapshot(admin)
    error_of(admin.patch("/api/vms/vm-free", json={"group": 4242}), 404, "group_not_found")
    error_of(admin.patch("/api/vms/vm-free", json={"group": 10**30}), 400)
    error_of(admin.patch("/api/vms/ghost", json={"description": "x"}), 404)
    assert snapshot(admin) == before


def test_admin_sets_expiry_in_the_future(stocked, admin, alice):
    target = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
    response = admin.patch("/api/vms/vm-booked", json={"expires_at": target.isoformat()})
    assert response.status_code == 200
    assert instant(response.get_json()["expires_at"]) == target
    assert instant(alice.get("/api/vms/vm-booked").get_json()["expires_at"]) == target
    record = alice.get("/api/history?vm_id=vm-booked&limit=1").get_json()["items"][0]
    assert (record["user"], record["actor"]) == ("alice@example.com", "admin@example.com")
    assert instant(record["end"]) == target


def test_expiry_without_offset_is_read_as_utc(stocked, admin):
    target = (datetime.now(UTC) + timedelta(hours=30)).replace(microsecond=0)
    naive = target.replace(tzinfo=None).isoformat()
    response = admin.patch("/api/vms/vm-booked", json={"expires_at": naive})
    assert instant(response.get_json()["expires_at"]) == target
    offset = target.astimezone(datetime.now().astimezone().tzinfo)
    response = admin.patch(
        "/api/vms/vm-booked", json={"expires_at": (offset + timedelta(hours=1)).isoformat()}
    )
    assert response.get_json()["expires_at"].endswith("+00:00")
    assert instant(response.get_json()["expires_at"]) == target + timedelta(hours=1)


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_non_admin_may_not_set_expiry(request, stocked, admin, who):
    client = request.getfixturevalue(who)
    before = snapshot(admin)
    later = (datetime.now(UTC) + timedelta(hours=5)).isoformat()
    error_of(client.patch("/api/vms/vm-booked", json={"expires_at": later}), 403)
    assert snapshot(admin) == before


def test_set_expiry_of_a_free_vm_is_409(stocked, admin):
    later = (datetime.now(UTC) + timedelta(hours=5)).isoformat()
    error_of(admin.patch("/api/vms/vm-free", json={"expires_at": later}), 409, "not_booked")


def test_delete_free_vm(stocked, admin, alice):
    assert delete(admin, "/api/vms/vm-free").status_code == 200
    error_of(alice.get("/api/vms/vm-free"), 404)
    assert alice.get(f"/api/groups/{stocked['id']}").get_json()["vm_ids"] == []
    error_of(delete(admin, "/api/vms/vm-free"), 404)


def test_delete_booked_vm_without_force_is_409(stocked, admin):
    before = snapshot(admin)
    error_of(delete(admin, "/api/vms/vm-booked"), 409, "vm_booked")
    error_of(delete(admin, "/api/vms/vm-booked?force=false"), 409, "vm_booked")
    assert snapshot(admin) == before


def test_force_delete_records_an_admin_release(stocked, admin, alice):
    assert delete(admin, "/api/vms/vm-booked?force=true").status_code == 200
    error_of(alice.get("/api/vms/vm-booked"), 404)
    record = alice.get("/api/history?vm_id=vm-booked").get_json()["items"][0]
    assert (record["action"], record["reason"], record["user"], record["actor"]) == (
        "release",
        "admin",
        "alice@example.com",
        "admin@example.com",
    )
    assert record["end"] is None
    mine = alice.get("/api/me/bookings").get_json()["items"]
    assert [item["action"] for item in mine] == ["release", "book"]


def test_force_flag_needs_an_admin(app_factory):
    app = app_factory(admins=())  # nobody is an admin, so nobody may force
    alice, bob = sign_in(app, "alice@example.com"), sign_in(app, "bob@example.com")
    assert bob.post("/api/vms", json={"id": "vm-1"}).status_code == 201
    assert alice.post("/api/vms/vm-1/book", json={"hours": 1}).status_code == 200
    error_of(delete(bob, "/api/vms/vm-1?force=true"), 409, "vm_booked")
    assert alice.get("/api/vms/vm-1").get_json()["booked_by"] == "alice@example.com"


# -- book / renew / release ----------------------------------------------------------------


def test_book_returns_the_vm_with_owner_and_expiry(stocked, bob):
    started = datetime.now(UTC)
    response = bob.post("/api/vms/vm-free/book", json={"hours": 3})
    finished = datetime.now(UTC)
    assert response.status_code == 200
    vm = response.get_json()
    assert (vm["id"], vm["booked_by"], vm["status"]) == ("vm-free", "bob@example.com", "booked")
    expires = instant(vm["expires_at"])
    assert started + timedelta(hours=3) <= expires <= finished + timedelta(hours=3)
    assert vm["expires_at"].endswith("+00:00")
    assert bob.get("/api/vms/vm-free").get_json() == vm


@pytest.mark.parametrize(
    ("vm_id", "status", "code"),
    [("vm-booked", 409, "already_booked"), ("vm-maint", 409, "in_maintenance"), ("x", 404, None)],
)
def test_book_refusals(stocked, admin, bob, vm_id, status, code):
    before = snapshot(admin)
    error_of(bob.post(f"/api/vms/{vm_id}/book", json={"hours": 1}), status, code)
    assert snapshot(admin) == before


def test_active_bookings_limit(app_factory):
    app = app_factory(admins=("admin@example.com",), max_active_bookings=1)
    admin, alice = sign_in(app, "admin@example.com"), sign_in(app, "alice@example.com")
    for vm_id in ("vm-1", "vm-2"):
        admin.post("/api/vms", json={"id": vm_id})
    assert alice.post("/api/vms/vm-1/book", json={"hours": 1}).status_code == 200
    error_of(alice.post("/api/vms/vm-2/book", json={"hours": 1}), 409, "quota_exceeded")
    assert alice.post("/api/vms/vm-1/release", json={}).status_code == 200
    assert alice.post("/api/vms/vm-2/book", json={"hours": 1}).status_code == 200


def test_max_hours_setting(app_factory):
    app = app_factory(max_hours=8)
    alice = sign_in(app, "alice@example.com")
    alice.post("/api/vms", json={"id": "vm-1"})
    error_of(alice.post("/api/vms/vm-1/book", json={"hours": 9}), 400)
    assert alice.post("/api/vms/vm-1/book", json={"hours": 8}).status_code == 200


def test_renew_adds_to_the_current_expiry(stocked, alice):
    before = instant(alice.get("/api/vms/vm-booked").get_json()["expires_at"])
    response = alice.post("/api/vms/vm-booked/renew", json={"hours": 4})
    assert response.status_code == 200
    assert instant(response.get_json()["expires_at"]) == before + timedelta(hours=4)


def test_admin_renews_for_the_owner(stocked, admin, alice):
    assert admin.post("/api/vms/vm-booked/renew", json={"hours": 1}).status_code == 200
    assert alice.get("/api/vms/vm-booked").get_json()["booked_by"] == "alice@example.com"


@pytest.mark.parametrize(
    ("who", "vm_id", "action", "status", "code"),
    [
        ("bob", "vm-booked", "renew", 403, "not_owner"),
        ("bob", "vm-booked", "release", 403, "not_owner"),
        ("alice", "vm-free", "renew", 409, "not_booked"),
        ("alice", "vm-free", "release", 409, "not_booked"),
        ("alice", "vm-maint", "release", 409, "not_booked"),
        ("alice", "ghost", "renew", 404, "vm_not_found"),
        ("alice", "ghost", "release", 404, "vm_not_found"),
    ],
)
def test_renew_and_release_refusals(request, stocked, admin, who, vm_id, action, status, code):
    client = request.getfixturevalue(who)
    before = snapshot(admin)
    kwargs = {"json": {"hours": 1}} if action == "renew" else {"json": {}}
    error_of(client.post(f"/api/vms/{vm_id}/{action}", **kwargs), status, code)
    assert snapshot(admin) == before


def test_release_by_owner_and_by_admin(stocked, admin, alice, bob):
    vm = alice.post("/api/vms/vm-booked/release", json={}).get_json()
    assert (vm["booked_by"], vm["expires_at"], vm["status"]) == (None, None, "free")
    assert bob.post("/api/vms/vm-booked/book", json={"hours": 1}).status_code == 200
    assert admin.post("/api/vms/vm-booked/release", json={}).status_code == 200
    releases = admin.get("/api/history?action=release").get_json()["items"]
    assert [(r["user"], r["actor"], r["reason"]) for r in releases] == [
        ("bob@example.com", "admin@example.com", "admin"),
        ("alice@example.com", "alice@example.com", "manual"),
    ]


def test_release_with_no_body_but_json_type(stocked, alice):
    response = alice.post("/api/vms/vm-booked/release", content_type="application/json")
    assert response.status_code == 200
    assert response.get_json()["booked_by"] is None


def test_auto_release_and_history_through_the_api(stocked, alice, run_job):
    expires = instant(alice.get("/api/vms/vm-booked").get_json()["expires_at"])
    assert run_job("release", "vm-booked", expires - timedelta(seconds=1)) is False
    assert run_job("release", "vm-booked", expires) is True
    assert alice.get("/api/vms/vm-booked").get_json()["booked_by"] is None
    record = alice.get("/api/me/bookings?limit=1").get_json()["items"][0]
    assert (record["action"], record["reason"], record["actor"]) == ("release", "expired", None)
