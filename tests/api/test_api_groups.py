"""Groups over HTTP: create, rename, move VMs, delete, uniqueness and 404s."""

from __future__ import annotations

import pytest

from tests.api.conftest import delete, error_of, snapshot


def groups(client) -> dict[str, list[str]]:
    return {g["name"]: g["vm_ids"] for g in client.get("/api/groups").get_json()}


def test_create_list_get(admin, alice, make_vm):
    make_vm("vm-1")
    make_vm("vm-2")
    response = admin.post("/api/groups", json={"name": "Perf", "vm_ids": ["vm-2", "vm-1"]})
    assert response.status_code == 201
    group = response.get_json()
    assert set(group) >= {"id", "name", "vm_ids"}
    assert (group["name"], sorted(group["vm_ids"])) == ("Perf", ["vm-1", "vm-2"])
    listed = alice.get("/api/groups").get_json()
    assert isinstance(listed, list)
    assert listed == [alice.get(f"/api/groups/{group['id']}").get_json()]
    assert {vm["group"] for vm in alice.get("/api/vms").get_json()} == {group["id"]}
    empty = admin.post("/api/groups", json={"name": "Empty"}).get_json()
    assert empty["vm_ids"] == []


def test_groups_are_listed_by_name_ignoring_case(admin):
    for name in ("beta", "Alpha", "gamma"):
        admin.post("/api/groups", json={"name": name})
    assert list(groups(admin)) == ["Alpha", "beta", "gamma"]


@pytest.mark.parametrize("taken", ["perf", "PERF", " Perf "])
def test_name_taken_regardless_of_case(admin, taken):
    admin.post("/api/groups", json={"name": "Perf"})
    before = snapshot(admin)
    error_of(admin.post("/api/groups", json={"name": taken}), 409, "name_taken")
    assert snapshot(admin) == before


def test_rename(admin):
    perf = admin.post("/api/groups", json={"name": "Perf"}).get_json()
    admin.post("/api/groups", json={"name": "Load"})
    error_of(admin.patch(f"/api/groups/{perf['id']}", json={"name": "LOAD"}), 409, "name_taken")
    renamed = admin.patch(f"/api/groups/{perf['id']}", json={"name": "PERF"}).get_json()
    assert renamed["name"] == "PERF"
    assert sorted(groups(admin)) == ["Load", "PERF"]


def test_move_vms_between_groups(admin, make_vm):
    for vm_id in ("vm-1", "vm-2", "vm-3"):
        make_vm(vm_id)
    a = admin.post("/api/groups", json={"name": "A", "vm_ids": ["vm-1", "vm-2"]}).get_json()
    b = admin.post("/api/groups", json={"name": "B"}).get_json()
    moved = admin.patch(f"/api/groups/{b['id']}", json={"vm_ids": ["vm-2", "vm-3"]}).get_json()
    assert moved["vm_ids"] == ["vm-2", "vm-3"]
    assert groups(admin) == {"A": ["vm-1"], "B": ["vm-2", "vm-3"]}
    assert admin.get("/api/vms/vm-2").get_json()["group"] == b["id"]
    # A VM is in at most one group.
    admin.patch(f"/api/groups/{a['id']}", json={"vm_ids": ["vm-1", "vm-2", "vm-3"]})
    assert groups(admin) == {"A": ["vm-1", "vm-2", "vm-3"], "B": []}
    admin.patch(f"/api/groups/{a['id']}", json={"vm_ids": []})
    assert groups(admin) == {"A": [], "B": []}
    assert {vm["group"] for vm in admin.get("/api/vms").get_json()} == {None}


def test_move_with_unknown_vm_is_404_and_changes_nothing(admin, make_vm):
    make_vm("vm-1")
    group = admin.post("/api/groups", json={"name": "A", "vm_ids": ["vm-1"]}).get_json()
    before = snapshot(admin)
    error_of(
        admin.patch(f"/api/groups/{group['id']}", json={"name": "B", "vm_ids": ["ghost"]}), 404
    )
    error_of(admin.post("/api/groups", json={"name": "C", "vm_ids": ["vm-1", "ghost"]}), 404)
    assert snapshot(admin) == before


def test_delete_ungroups_vms(admin, alice, make_vm):
    make_vm("vm-1")
    group = admin.post("/api/groups", json={"name": "A", "vm_ids": ["vm-1"]}).get_json()
    assert alice.post("/api/vms/vm-1/book", json={"hours": 1}).status_code == 200
    assert delete(admin, f"/api/groups/{group['id']}").status_code == 200
    assert admin.get("/api/groups").get_json() == []
    vm = admin.get("/api/vms/vm-1").get_json()
    assert (vm["group"], vm["booked_by"]) == (None, "alice@example.com")
    error_of(admin.get(f"/api/groups/{group['id']}"), 404, "group_not_found")
    assert admin.post("/api/groups", json={"name": "a"}).status_code == 201


@pytest.mark.parametrize("group_id", ["999", "0", "2147483648", "99999999999999999999"])
def test_unknown_group_is_404(admin, group_id):
    error_of(admin.get(f"/api/groups/{group_id}"), 404)
    error_of(admin.patch(f"/api/groups/{group_id}", json={"name": "x"}), 404)
    error_of(delete(admin, f"/api/groups/{group_id}"), 404)


def test_non_numeric_group_id_is_404(admin):
    error_of(admin.get("/api/groups/abc"), 404)
