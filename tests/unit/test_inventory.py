"""VMs and groups as use cases: validation, uniqueness, moving VMs, who may manage."""

from __future__ import annotations

import pytest

from loadzone.booking import bookings
from loadzone.errors import Conflict, Invalid, NotAllowed, NotFound
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from tests.unit.conftest import ADMIN, ALICE, RULES, T0, run, vm_row

NO_ADMINS = Actor("anyone@example.com", is_admin=False, admins_configured=False)


def groups_by_name() -> dict[str, list[str]]:
    return {g["name"]: g["vm_ids"] for g in catalog.list_groups()}


# -- VMs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("vm_id", ["a", "A" * 64, "vm-01.lab_x", "9lives"])
def test_valid_vm_ids(ctx, vm_id):
    run(catalog.add_vm, ADMIN, T0, vm_id)
    assert vm_row(vm_id) is not None


@pytest.mark.parametrize(
    "vm_id", ["", "A" * 65, "-vm", ".vm", "_vm", "vm 1", "vm/1", "vm\u00e9", "\u0432\u043c"]
)
def test_invalid_vm_ids(ctx, vm_id):
    with pytest.raises(Invalid) as caught:
        run(catalog.add_vm, ADMIN, T0, vm_id)
    assert caught.value.code == "invalid_vm_id"
    assert catalog.list_vms() == []


def test_duplicate_vm_is_a_conflict(add_vm):
    add_vm("vm-1", description="first")
    with pytest.raises(Conflict) as caught:
        run(catalog.add_vm, ADMIN, T0, "vm-1", description="second")
    assert caught.value.code == "vm_exists"
    assert vm_row("vm-1").description == "first"


def test_description_limit_and_trim(add_vm):
    add_vm("vm-1", description="  spaced  ")
    assert vm_row("vm-1").description == "spaced"
    run(catalog.edit_vm, ADMIN, "vm-1", {"description": "x" * 500})
    with pytest.raises(Invalid):
        run(catalog.edit_vm, ADMIN, "vm-1", {"description": "x" * 501})
    assert vm_row("vm-1").description == "x" * 500


def test_new_vm_is_free_and_not_in_maintenance(add_vm):
    add_vm("vm-1")
    row = vm_row("vm-1")
    assert (row.booked_by, row.expires_at, row.maintenance, row.group_id) == (
        None,
        None,
        False,
        None,
    )


def test_add_vm_to_unknown_group_is_not_found(ctx):
    with pytest.raises(NotFound):
        run(catalog.add_vm, ADMIN, T0, "vm-1", group=999)
    with pytest.raises(NotFound):
        run(catalog.add_vm, ADMIN, T0, "vm-1", group=10**30)
    assert vm_row("vm-1") is None


def test_list_filters(add_vm):
    group = run(catalog.create_group, ADMIN, T0, "Perf").id
    add_vm("web-1", group=group, description="Frontend box")
    add_vm("web-2")
    add_vm("db-1", description="database")
    run(catalog.edit_vm, ADMIN, "db-1", {"maintenance": True})
    run(bookings.book, ALICE, "web-2", 1, T0, RULES)
    ids = lambda **kw: [vm.id for vm in catalog.list_vms(**kw)]  # noqa: E731
    assert ids() == ["db-1", "web-1", "web-2"]
    assert ids(group=group) == ["web-1"]
    assert ids(ungrouped=True) == ["db-1", "web-2"]
    assert ids(status="free") == ["web-1"]
    assert ids(status="booked") == ["web-2"]
    assert ids(status="maintenance") == ["db-1"]
    assert ids(q="FRONT") == ["web-1"]
    assert ids(q="alice") == ["web-2"]
    assert ids(q="web") == ["web-1", "web-2"]
    assert ids(q="%") == []


# -- groups --------------------------------------------------------------------------------


def test_group_names_are_unique_regardless_of_case(ctx):
    run(catalog.create_group, ADMIN, T0, "Perf Lab")
    for name in ("perf lab", "PERF LAB", "  Perf Lab  "):
        with pytest.raises(Conflict) as caught:
            run(catalog.create_group, ADMIN, T0, name)
        assert caught.value.code == "name_taken"
    assert list(groups_by_name()) == ["Perf Lab"]


def test_rename_to_a_taken_name_is_a_conflict_but_own_case_change_is_fine(ctx):
    first = run(catalog.create_group, ADMIN, T0, "Alpha").id
    run(catalog.create_group, ADMIN, T0, "Beta")
    with pytest.raises(Conflict):
        run(catalog.edit_group, ADMIN, first, "BETA", None)
    run(catalog.edit_group, ADMIN, first, "ALPHA", None)
    assert sorted(groups_by_name()) == ["ALPHA", "Beta"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_group_name_length(ctx, name):
    with pytest.raises(Invalid):
        run(catalog.create_group, ADMIN, T0, name)
    assert catalog.list_groups() == []


def test_group_name_is_trimmed_and_100_chars_fit(ctx):
    run(catalog.create_group, ADMIN, T0, "  Trim me ")
    run(catalog.create_group, ADMIN, T0, "n" * 100)
    assert sorted(groups_by_name()) == ["Trim me", "n" * 100]


def test_create_group_with_vms_moves_them_from_other_groups(add_vm):
    for vm_id in ("vm-1", "vm-2", "vm-3"):
        add_vm(vm_id)
    old = run(catalog.create_group, ADMIN, T0, "Old", ["vm-1", "vm-2"]).id
    new = run(catalog.create_group, ADMIN, T0, "New", ["vm-2", "vm-3"]).id
    assert groups_by_name() == {"New": ["vm-2", "vm-3"], "Old": ["vm-1"]}
    assert vm_row("vm-2").group_id == new
    assert vm_row("vm-1").group_id == old


def test_edit_group_sets_exactly_its_vms(add_vm):
    for vm_id in ("vm-1", "vm-2", "vm-3"):
        add_vm(vm_id)
    group = run(catalog.create_group, ADMIN, T0, "G", ["vm-1", "vm-2"]).id
    run(catalog.edit_group, ADMIN, group, None, ["vm-3"])
    assert groups_by_name() == {"G": ["vm-3"]}
    assert vm_row("vm-1").group_id is None
    run(catalog.edit_group, ADMIN, group, None, [])
    assert groups_by_name() == {"G": []}


def test_moving_a_single_vm_between_groups(add_vm):
    add_vm("vm-1")
    a = run(catalog.create_group, ADMIN, T0, "A", ["vm-1"]).id
    b = run(catalog.create_group, ADMIN, T0, "B").id
    run(catalog.edit_vm, ADMIN, "vm-1", {"group": b})
    assert groups_by_name() == {"A": [], "B": ["vm-1"]}
    run(catalog.edit_vm, ADMIN, "vm-1", {"group": None})
    assert groups_by_name() == {"A": [], "B": []}
    assert a != b


def test_edit_group_with_unknown_vm_changes_nothing(add_vm):
    add_vm("vm-1")
    group = run(catalog.create_group, ADMIN, T0, "G", ["vm-1"]).id
    with pytest.raises(NotFound):
        run(catalog.edit_group, ADMIN, group, "Renamed", ["vm-1", "ghost"])
    assert groups_by_name() == {"G": ["vm-1"]}


def test_delete_group_ungroups_its_vms_and_keeps_them(add_vm):
    add_vm("vm-1")
    add_vm("vm-2")
    group = run(catalog.create_group, ADMIN, T0, "Doomed", ["vm-1", "vm-2"]).id
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    run(catalog.delete_group, ADMIN, group)
    assert catalog.list_groups() == []
    assert [vm.group_id for vm in catalog.list_vms()] == [None, None]
    assert vm_row("vm-1").booked_by == "alice@example.com"
    with pytest.raises(NotFound):
        catalog.get_group(group)
    # The name is free again.
    run(catalog.create_group, ADMIN, T0, "doomed")


@pytest.mark.parametrize("group_id", [0, -1, 12345, 2**31, 10**30])
def test_unknown_group_ids_are_not_found(ctx, group_id):
    with pytest.raises(NotFound):
        catalog.get_group(group_id)
    with pytest.raises(NotFound):
        run(catalog.delete_group, ADMIN, group_id)


# -- who may manage ------------------------------------------------------------------------


MANAGE = [
    ("add_vm", lambda who: catalog.add_vm(who, T0, "vm-new")),
    ("edit_vm", lambda who: catalog.edit_vm(who, "vm-1", {"description": "x"})),
    ("delete_vm", lambda who: bookings.delete_vm(who, "vm-1", T0)),
    ("create_group", lambda who: catalog.create_group(who, T0, "New")),
    ("edit_group", lambda who: catalog.edit_group(who, 1, "Renamed", None)),
    ("delete_group", lambda who: catalog.delete_group(who, 1)),
]


@pytest.fixture
def stocked(add_vm):
    add_vm("vm-1")
    assert run(catalog.create_group, ADMIN, T0, "Existing").id == 1


@pytest.mark.parametrize(("name", "action"), MANAGE, ids=[m[0] for m in MANAGE])
def test_non_admin_may_not_manage_when_admins_are_configured(stocked, name, action):
    before = ([(v.id, v.description) for v in catalog.list_vms()], catalog.list_groups())
    with pytest.raises(NotAllowed) as caught:
        run(action, ALICE)
    assert caught.value.code == "admin_only"
    after = ([(v.id, v.description) for v in catalog.list_vms()], catalog.list_groups())
    assert after == before


@pytest.mark.parametrize(("name", "action"), MANAGE, ids=[m[0] for m in MANAGE])
def test_everyone_may_manage_when_no_admins_are_configured(stocked, name, action):
    run(action, NO_ADMINS)


def test_no_admins_mode_gives_nobody_the_admin_override(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    with pytest.raises(NotAllowed):
        run(bookings.release, NO_ADMINS, "vm-1", T0)
    with pytest.raises(Conflict):
        run(bookings.delete_vm, NO_ADMINS, "vm-1", T0, force=True)
    assert vm_row("vm-1").booked_by == "alice@example.com"
