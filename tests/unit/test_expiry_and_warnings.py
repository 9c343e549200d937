"""Auto-release and the expiry warning, driven by an explicit clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from loadzone.booking import bookings
from loadzone.booking.bookings import Rules
from loadzone.extensions import db
from loadzone.models import Notification
from loadzone.notifications import notify
from tests.unit import due
from tests.unit.conftest import ADMIN, ALICE, BOB, RULES, T0, at, records, run, vm_row


def warnings_for(email: str) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.type == "expiry_warning", Notification.recipient == email)
            .order_by(Notification.id)
        )
    )


def sweep_warnings(now, rules=RULES) -> list[str]:
    """What the scheduler's sweep does for warnings; returns who was warned."""
    return [run(due.warn_due, vm_id, now, rules) for vm_id in due.warning_due_ids(now, rules)]


def sweep_releases(now) -> list[str]:
    return [vm_id for vm_id in due.expired_ids(now) if run(due.release_due, vm_id, now)]


# -- auto-release --------------------------------------------------------------------------


def test_expired_ids_lists_only_bookings_past_their_expiry(add_vm):
    for vm_id in ("vm-a", "vm-b", "vm-c"):
        add_vm(vm_id)
    run(bookings.book, ALICE, "vm-a", 1, T0, RULES)
    run(bookings.book, BOB, "vm-b", 3, T0, RULES)
    assert due.expired_ids(at(minutes=59)) == []
    assert due.expired_ids(at(hours=1)) == ["vm-a"]
    assert due.expired_ids(at(hours=5)) == ["vm-a", "vm-b"]


def test_release_due_frees_an_expired_booking_once(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 1, T0, RULES)
    assert run(due.release_due, "vm-1", at(minutes=59, seconds=59)) is False
    assert vm_row("vm-1").booked_by == "alice@example.com"

    assert run(due.release_due, "vm-1", at(hours=1, seconds=1)) is True
    row = vm_row("vm-1")
    assert (row.booked_by, row.expires_at) == (None, None)
    assert run(due.release_due, "vm-1", at(hours=1, seconds=2)) is False
    assert due.expired_ids(at(hours=2)) == []

    releases = records(action="release")
    assert len(releases) == 1
    assert releases[0]["reason"] == "expired"
    assert releases[0]["actor"] is None
    assert releases[0]["user"] == "alice@example.com"
    auto = db.session.scalars(
        select(Notification).where(Notification.type == "vm_auto_released")
    ).all()
    assert len(auto) == 1
    assert auto[0].vm_id == "vm-1"
    assert auto[0].recipient is None


def test_release_due_skips_a_renewed_booking(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 1, T0, RULES)
    run(bookings.renew, ALICE, "vm-1", 2, at(minutes=30), RULES)
    assert run(due.release_due, "vm-1", at(hours=1, minutes=1)) is False
    assert vm_row("vm-1").booked_by == "alice@example.com"
    assert run(due.release_due, "vm-1", at(hours=3)) is True


def test_release_due_of_a_free_or_unknown_vm_does_nothing(add_vm):
    add_vm("vm-1")
    assert run(due.release_due, "vm-1", at(hours=1)) is False
    assert run(due.release_due, "ghost", at(hours=1)) is False
    assert records() == []


def test_a_missed_expiry_is_released_by_the_next_sweep(add_vm):
    """As at start-up after downtime: everything overdue goes, each exactly once."""
    for vm_id in ("vm-1", "vm-2", "vm-3"):
        add_vm(vm_id)
    run(bookings.book, ALICE, "vm-1", 1, T0, RULES)
    run(bookings.book, BOB, "vm-2", 2, T0, RULES)
    run(bookings.book, BOB, "vm-3", 10, T0, RULES)
    assert sweep_releases(at(hours=6)) == ["vm-1", "vm-2"]
    assert sweep_releases(at(hours=6)) == []
    assert vm_row("vm-3").booked_by == "bob@example.com"
    assert [(r["vm_id"], r["reason"]) for r in records(action="release")] == [
        ("vm-1", "expired"),
        ("vm-2", "expired"),
    ]


def test_an_admin_shortened_booking_expires_at_the_new_time(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 5, T0, RULES)
    run(bookings.override_expiry, ADMIN, "vm-1", at(minutes=10), at(minutes=1), RULES)
    assert due.expired_ids(at(minutes=9)) == []
    assert due.expired_ids(at(minutes=10)) == ["vm-1"]
    assert run(due.release_due, "vm-1", at(minutes=10)) is True


# -- warnings ------------------------------------------------------------------------------


def test_warning_is_due_inside_the_lead_time_and_goes_to_the_owner_once(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 3, T0, RULES)
    assert due.warning_due_ids(at(hours=1, minutes=59), RULES) == []
    assert run(due.warn_due, "vm-1", at(hours=1, minutes=59), RULES) is None
    assert warnings_for("alice@example.com") == []

    assert due.warning_due_ids(at(hours=2), RULES) == ["vm-1"]
    assert run(due.warn_due, "vm-1", at(hours=2), RULES) == "alice@example.com"
    warning = warnings_for("alice@example.com")
    assert len(warning) == 1
    assert warning[0].vm_id == "vm-1"
    assert "60 min" in warning[0].message

    # Once: neither the id list nor a second call produce another.
    assert due.warning_due_ids(at(hours=2, minutes=30), RULES) == []
    assert run(due.warn_due, "vm-1", at(hours=2, minutes=30), RULES) is None
    assert len(warnings_for("alice@example.com")) == 1


def test_warning_is_stored_for_the_owner_only(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    run(due.warn_due, "vm-1", at(hours=1, minutes=30), RULES)
    types = lambda email: [n["type"] for n in notify.list_for(email, 100, None)[0]]  # noqa: E731
    assert "expiry_warning" in types("alice@example.com")
    assert "expiry_warning" not in types("bob@example.com")
    assert "expiry_warning" not in types("admin@example.com")


def test_renewal_re_arms_the_warning(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    assert sweep_warnings(at(hours=1, minutes=10)) == ["alice@example.com"]
    run(bookings.renew, ALICE, "vm-1", 2, at(hours=1, minutes=20), RULES)
    # Expiry is now T0+4h: the next warning is due at T0+3h, not before.
    assert sweep_warnings(at(hours=2, minutes=59)) == []
    assert sweep_warnings(at(hours=3)) == ["alice@example.com"]
    assert sweep_warnings(at(hours=3, minutes=1)) == []
    assert len(warnings_for("alice@example.com")) == 2


def test_admin_renewal_re_arms_the_owners_warning(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    assert sweep_warnings(at(hours=1, minutes=30)) == ["alice@example.com"]
    run(bookings.renew, ADMIN, "vm-1", 3, at(hours=1, minutes=31), RULES)
    assert sweep_warnings(at(hours=4)) == ["alice@example.com"]
    assert warnings_for("admin@example.com") == []


def test_booking_no_longer_than_the_lead_time_gets_no_warning(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 1, T0, RULES)
    for minute in (0, 1, 30, 59):
        assert sweep_warnings(at(minutes=minute)) == []
    assert warnings_for("alice@example.com") == []


def test_lead_time_is_configurable(add_vm):
    add_vm("vm-1")
    add_vm("vm-2")
    rules = Rules(warning_minutes=180)
    run(bookings.book, ALICE, "vm-1", 3, T0, rules)  # no longer than the lead: no warning
    run(bookings.book, ALICE, "vm-2", 4, T0, rules)
    assert due.warning_due_ids(at(minutes=30), rules) == []
    assert due.warning_due_ids(at(hours=1), rules) == ["vm-2"]
    assert sweep_warnings(at(hours=1), rules) == ["alice@example.com"]


def test_admin_override_into_the_lead_time_warns_at_once(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 5, T0, RULES)
    run(bookings.override_expiry, ADMIN, "vm-1", at(minutes=40), at(minutes=10), RULES)
    assert due.warning_due_ids(at(minutes=10), RULES) == ["vm-1"]
    assert sweep_warnings(at(minutes=10)) == ["alice@example.com"]
    assert "30 min" in warnings_for("alice@example.com")[0].message


def test_admin_override_re_arms_an_already_sent_warning(add_vm):
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 3, T0, RULES)
    assert sweep_warnings(at(hours=2, minutes=5)) == ["alice@example.com"]
    run(bookings.override_expiry, ADMIN, "vm-1", at(hours=8), at(hours=2, minutes=10), RULES)
    assert sweep_warnings(at(hours=6, minutes=59)) == []
    assert sweep_warnings(at(hours=7)) == ["alice@example.com"]
    assert len(warnings_for("alice@example.com")) == 2


def test_no_warning_once_the_booking_is_over_or_released(add_vm):
    add_vm("vm-1")
    add_vm("vm-2")
    run(bookings.book, ALICE, "vm-1", 2, T0, RULES)
    run(bookings.book, ALICE, "vm-2", 2, T0, RULES)
    # Past its expiry: the release is due, not a warning.
    assert due.warning_due_ids(at(hours=2), RULES) == []
    assert run(due.warn_due, "vm-1", at(hours=2), RULES) is None
    run(bookings.release, ALICE, "vm-2", at(minutes=70))
    assert run(due.warn_due, "vm-2", at(minutes=71), RULES) is None
    assert run(due.warn_due, "ghost", at(minutes=71), RULES) is None
    assert warnings_for("alice@example.com") == []


def test_warning_and_release_each_happen_once_over_a_whole_day(add_vm):
    """Sweep every 10 minutes across the booking's life: one warning, one release."""
    add_vm("vm-1")
    run(bookings.book, ALICE, "vm-1", 6, T0, RULES)
    warned, released = [], []
    now = T0
    while now <= at(hours=8):
        warned += [w for w in sweep_warnings(now) if w]
        released += sweep_releases(now)
        now += timedelta(minutes=10)
    assert warned == ["alice@example.com"]
    assert released == ["vm-1"]
    assert [r["action"] for r in records()] == ["book", "release"]
