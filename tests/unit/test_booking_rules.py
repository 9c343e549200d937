"""Book, renew, release, the admin override and force delete, called as use cases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loadzone.booking import bookings
from loadzone.booking.bookings import Rules
from loadzone.errors import Conflict, Invalid, NotAllowed, NotFound
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from loadzone.models import Booking
from tests.unit.conftest import ADMIN, ALICE, BOB, RULES, T0, at, records, run, vm_row

# -- book ----------------------------------------------------------------------------------


def test_book_sets_owner_and_expiry_from_now(add_vm):
    add_vm("vm-1")
    vm = run(bookings.book, ALICE, "vm-1", 3, T0, RULES)
    assert (vm.booked_by, vm.expires_at, vm.booked_at) == ("alice@example.com", at(hours=3), T0)
    row = vm_row("vm-1")
    assert row.booked_by == "alice@example.com"
    assert row.expires_at == at(hours=3)


@pytest.mark.parametrize("hours", [1, 24])
def test_book_accepts_the_bounds(add_vm, hours):
    add_vm("vm-1")
    assert run(bookings.book, ALICE, "vm-1", hours, T0, RULES).expires_at == at(hours=hours)


@pytest.mark.parametrize("hours", [0, -1, 25, 1.5, 2.0, "2", True, None])
def test_book_refuses_hours_outside_whole_1_to_max(add_vm, hours):
    add_vm("vm-1")
    with pytest.raises(Invalid) as caught:
        run(bookings.book, ALICE, "vm-1", hours, T0, RULES)
    assert caught.value.code == "invalid_hours"
    assert vm_row("vm-1").booked_by is None
    assert records() == []


def test_max_hours_is_configurable(add_vm):
    add_vm("vm-1")
    add_vm("vm-2")
    short = Rules(max_hours=4)
    with pytest.raises(Invalid, match="1 to 4"):
        run(bookings.book, ALICE, "vm-1", 5, T0, short)
    assert run(bookings.book, ALICE, "vm-2", 4, T0, short).expires_at == at(hours=4)


def test_book_refuses_a_booked_vm(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    with pytest.raises(Conflict) as caught:
        run(bookings.book, BOB, "vm-1", 2, at(minutes=1), RULES)
    assert caught.value.code == "already_booked"
    assert "alice@example.com" in caught.value.message
    row = vm_row("vm-1")
    assert (row.booked_by, row.expires_at) == ("alice@example.com", at(hours=2))
    assert [r["action"] for r in records()] == ["book"]


def test_owner_cannot_book_own_vm_twice(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    with pytest.raises(Conflict):
        run(bookings.book, ALICE, "vm-1", 5, T0, RULES)
    assert vm_row("vm-1").expires_at == at(hours=2)


def test_book_refuses_a_vm_in_maintenance(add_vm):
    add_vm("vm-1")
    run(catalog.edit_vm, ADMIN, "vm-1", {"maintenance": True})
    with pytest.raises(Conflict) as caught:
        run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    assert caught.value.code == "in_maintenance"
    assert vm_row("vm-1").booked_by is None
    run(catalog.edit_vm, ADMIN, "vm-1", {"maintenance": False})
    assert run(bookings.book, ALICE, "vm-1", 2, T0, RULES).booked_by == "alice@example.com"


def test_book_unknown_vm_is_not_found(ctx):
    with pytest.raises(NotFound):
        run(bookings.book, ALICE, "ghost", 2, T0, RULES)
    assert records() == []


def test_active_bookings_limit(add_vm):
    for vm_id in ("vm-1", "vm-2", "vm-3"):
        add_vm(vm_id)
    rules = Rules(max_active_bookings=2)
    run(bookings.book, ALICE, "vm-1", 2, T0, rules)
    run(bookings.book, ALICE, "vm-2", 2, T0, rules)
    with pytest.raises(Conflict) as caught:
        run(bookings.book, ALICE, "vm-3", 2, T0, rules)
    assert caught.value.code == "quota_exceeded"
    assert vm_row("vm-3").booked_by is None
    # The limit is per person, and a release frees a slot.
    assert run(bookings.book, BOB, "vm-3", 2, T0, rules).booked_by == "bob@example.com"
    run(bookings.release, ALICE, "vm-1", at(minutes=5))
    assert run(bookings.book, ALICE, "vm-1", 2, at(minutes=6), rules).booked_by == ALICE.email


def test_zero_active_limit_means_unlimited(add_vm):
    for index in range(5):
        add_vm(f"vm-{index}")
        run(bookings.book, ALICE, f"vm-{index}", 1, T0, Rules(max_active_bookings=0))
    assert len(catalog.list_vms(status="booked")) == 5


def test_book_creates_the_user_on_first_use(add_vm):
    from loadzone.extensions import db
    from loadzone.models import User

    add_vm("vm-1")
    assert db.session.get(User, "carol@example.com") is None
    run(bookings.book, Actor("carol@example.com"), "vm-1", 1, T0, RULES)
    assert db.session.get(User, "carol@example.com").created == T0


# -- renew ---------------------------------------------------------------------------------


def test_renew_adds_hours_to_the_current_expiry(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    vm = run(bookings.renew, ALICE, "vm-1", 3, at(minutes=30), RULES)
    # Added to the expiry, not to "now".
    assert vm.expires_at == at(hours=5)
    assert vm_row("vm-1").expires_at == at(hours=5)


def test_admin_may_renew_anyones_booking(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    assert run(bookings.renew, ADMIN, "vm-1", 1, T0, RULES).expires_at == at(hours=3)
    record = records(action="renew")[0]
    assert (record["user"], record["actor"]) == ("alice@example.com", "admin@example.com")


def test_renew_by_someone_else_is_not_allowed(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    with pytest.raises(NotAllowed) as caught:
        run(bookings.renew, BOB, "vm-1", 1, T0, RULES)
    assert caught.value.code == "not_owner"
    assert vm_row("vm-1").expires_at == at(hours=2)
    assert [r["action"] for r in records()] == ["book"]


def test_renew_in_no_admins_mode_is_still_owner_only(add_vm):
    add_vm("vm-1")
    run(bookings.book, Actor("alice@example.com"), "vm-1", 2, T0, RULES)
    with pytest.raises(NotAllowed):
        run(bookings.renew, Actor("bob@example.com"), "vm-1", 1, T0, RULES)


def test_renew_a_free_vm_is_a_conflict(add_vm):
    add_vm("vm-1")
    with pytest.raises(Conflict) as caught:
        run(bookings.renew, ALICE, "vm-1", 1, T0, RULES)
    assert caught.value.code == "not_booked"


@pytest.mark.parametrize("hours", [0, 25, 1.5, "1", False])
def test_renew_refuses_bad_hours(add_vm, hours):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    with pytest.raises(Invalid):
        run(bookings.renew, ALICE, "vm-1", hours, T0, RULES)
    assert vm_row("vm-1").expires_at == at(hours=2)


def test_renew_is_capped_at_max_hours_from_now_and_says_how_much_is_left(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 20, T0, RULES)
    with pytest.raises(Invalid) as caught:
        run(bookings.renew, ALICE, "vm-1", 5, T0, RULES)
    assert caught.value.code == "renew_too_long"
    assert "24 h" in caught.value.message
    assert "at most 4 more hour(s)" in caught.value.message
    assert vm_row("vm-1").expires_at == at(hours=20)
    # Exactly up to the cap is fine.
    assert run(bookings.renew, ALICE, "vm-1", 4, T0, RULES).expires_at == at(hours=24)


def test_renew_cap_moves_with_the_clock(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 24, T0, RULES)
    with pytest.raises(Invalid, match="no whole hour can be added"):
        run(bookings.renew, ALICE, "vm-1", 1, at(minutes=30), RULES)
    # An hour later one more hour fits.
    assert run(bookings.renew, ALICE, "vm-1", 1, at(hours=1), RULES).expires_at == at(hours=25)


def test_renew_after_an_admin_set_a_far_expiry_is_refused_cleanly(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    far = T0.replace(year=9999, month=12, day=31, hour=23)
    run(bookings.override_expiry, ADMIN, "vm-1", far, T0, RULES)
    with pytest.raises(Invalid) as caught:
        run(bookings.renew, ALICE, "vm-1", 1, T0, RULES)
    assert caught.value.code == "renew_too_long"
    assert vm_row("vm-1").expires_at == far


# -- release -------------------------------------------------------------------------------


def test_owner_release_frees_at_once_with_reason_manual(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    vm = run(bookings.release, ALICE, "vm-1", at(minutes=10))
    assert (vm.booked_by, vm.expires_at, vm.booked_at) == (None, None, None)
    record = records(action="release")[0]
    assert record["reason"] == "manual"
    assert record["actor"] == record["user"] == "alice@example.com"
    assert record["start"] == at(minutes=10).isoformat()
    assert record["end"] is None
    # Free again: someone else may book it.
    assert run(bookings.book, BOB, "vm-1", 1, at(minutes=11), RULES).booked_by == BOB.email


def test_admin_release_has_reason_admin(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    run(bookings.release, ADMIN, "vm-1", at(minutes=1))
    record = records(action="release")[0]
    assert (record["reason"], record["user"], record["actor"]) == (
        "admin",
        "alice@example.com",
        "admin@example.com",
    )


def test_release_by_someone_else_is_not_allowed(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    with pytest.raises(NotAllowed):
        run(bookings.release, BOB, "vm-1", T0)
    assert vm_row("vm-1").booked_by == "alice@example.com"


def test_release_a_free_vm_is_a_conflict(add_vm):
    add_vm("vm-1")
    with pytest.raises(Conflict) as caught:
        run(bookings.release, ALICE, "vm-1", T0)
    assert caught.value.code == "not_booked"
    assert records() == []


def test_release_unknown_vm_is_not_found(ctx):
    with pytest.raises(NotFound):
        run(bookings.release, ALICE, "ghost", T0)


# -- admin override ------------------------------------------------------------------------


@pytest.mark.parametrize("new_expiry", [{"minutes": 5}, {"hours": 100}], ids=["shorten", "extend"])
def test_admin_sets_any_future_expiry(add_vm, new_expiry):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    target = at(**new_expiry)
    vm = run(bookings.override_expiry, ADMIN, "vm-1", target, T0, RULES)
    assert (vm.expires_at, vm.booked_by) == (target, "alice@example.com")
    record = records()[-1]
    assert (record["user"], record["actor"], record["end"]) == (
        "alice@example.com",
        "admin@example.com",
        target.isoformat(),
    )


@pytest.mark.parametrize("when", [{"hours": 0}, {"minutes": -1}])
def test_admin_override_must_lie_in_the_future(add_vm, when):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    with pytest.raises(Invalid) as caught:
        run(bookings.override_expiry, ADMIN, "vm-1", at(**when), T0, RULES)
    assert caught.value.code == "invalid_expires_at"
    assert vm_row("vm-1").expires_at == at(hours=2)


@pytest.mark.parametrize(
    "actor",
    [ALICE, BOB, Actor("alice@example.com", admins_configured=False)],
    ids=["owner", "other", "no-admins-mode"],
)
def test_override_is_admin_only(add_vm, actor):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    with pytest.raises(NotAllowed):
        run(bookings.override_expiry, actor, "vm-1", at(hours=10), T0, RULES)
    assert vm_row("vm-1").expires_at == at(hours=2)


def test_override_of_a_free_vm_is_a_conflict(add_vm):
    add_vm("vm-1")
    with pytest.raises(Conflict):
        run(bookings.override_expiry, ADMIN, "vm-1", at(hours=1), T0, RULES)


# -- delete --------------------------------------------------------------------------------


def test_delete_free_vm(add_vm):
    add_vm("vm-1")
    run(bookings.delete_vm, ADMIN, "vm-1", T0)
    assert vm_row("vm-1") is None


@pytest.mark.parametrize(
    ("actor", "force"),
    [(ADMIN, False), (Actor("x@example.com"), True)],
    ids=["no-force", "no-admin"],
)
def test_delete_booked_vm_needs_admin_and_force(add_vm, actor, force):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    with pytest.raises(Conflict) as caught:
        run(bookings.delete_vm, actor, "vm-1", T0, force=force)
    assert caught.value.code == "vm_booked"
    assert vm_row("vm-1").booked_by == "alice@example.com"


def test_force_delete_records_an_admin_release_first(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    run(bookings.delete_vm, ADMIN, "vm-1", at(minutes=7), force=True)
    assert vm_row("vm-1") is None
    book, release = records(vm_id="vm-1")
    assert book["action"] == "book"
    assert release["action"] == "release"
    assert (release["reason"], release["user"], release["actor"]) == (
        "admin",
        "alice@example.com",
        "admin@example.com",
    )
    assert release["start"] == at(minutes=7).isoformat()


def test_delete_by_non_admin_when_admins_configured_is_forbidden(add_vm):
    add_vm("vm-1")
    with pytest.raises(NotAllowed):
        run(bookings.delete_vm, ALICE, "vm-1", T0)
    assert vm_row("vm-1") is not None


def test_vm_can_be_readded_after_delete_and_history_stays(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 1, T0, RULES)
    run(bookings.release, ALICE, "vm-1", at(minutes=1))
    run(bookings.delete_vm, ADMIN, "vm-1", at(minutes=2))
    add_vm("vm-1")
    assert [r["action"] for r in records(vm_id="vm-1")] == ["book", "release"]


def test_failed_use_case_leaves_no_trace(add_vm):
    """A use case that raises half-way rolls back its writes (here: the new user row)."""
    from loadzone.extensions import db
    from loadzone.models import User

    add_vm("vm-1")
    run(catalog.edit_vm, ADMIN, "vm-1", {"maintenance": True})
    with pytest.raises(Conflict):
        run(bookings.book, Actor("dave@example.com"), "vm-1", 1, T0, RULES)
    db.session.expire_all()
    assert db.session.get(User, "dave@example.com") is None
    assert db.session.query(Booking).count() == 0


def test_expiry_is_stored_to_the_second_and_in_utc(add_vm):
    from datetime import timezone

    add_vm("vm-1")
    local = T0.astimezone(timezone(timedelta(hours=5, minutes=30)))
    vm = run(bookings.book, ALICE, "vm-1", 1, local, RULES)
    assert vm_row("vm-1").expires_at == at(hours=1)
    assert vm.expires_at.utcoffset() == timedelta(0)
