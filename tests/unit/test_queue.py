"""Pools, the queue and heartbeats: strictly first come, first served, with holds."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from loadzone.booking import bookings, claims, heartbeats, queue, queue_view
from loadzone.booking.pools import Target
from loadzone.errors import Conflict, NotAllowed
from loadzone.extensions import db
from loadzone.identity.permissions import Actor
from loadzone.inventory import catalog
from loadzone.models import Booking, Notification, QueueRequest
from tests.unit.conftest import ADMIN, ALICE, BOB, RULES, T0, at, run, vm_row

CAROL = Actor("carol@example.com", admins_configured=True)


def ask(target=None, hours=1, **kwargs) -> claims.Ask:
    return claims.Ask(target=target or Target(group=1), hours=hours, **kwargs)


def claim(actor, now=T0, rules=RULES, **kwargs):
    return run(claims.request, actor, ask(**kwargs), now, rules)


def holder(vm_id: str) -> str | None:
    return vm_row(vm_id).booked_by


def request_state(request_id: int) -> str:
    db.session.expire_all()
    return db.session.get(QueueRequest, request_id).state


@pytest.fixture
def pool(add_vm):
    """Group 1 with gen-1..gen-3, and an ungrouped spare."""
    group = run(catalog.create_group, ADMIN, T0, "Generators")
    assert group.id == 1
    for vm_id in ("gen-1", "gen-2", "gen-3"):
        add_vm(vm_id, group=group.id)
    add_vm("spare")
    return ["gen-1", "gen-2", "gen-3"]


def test_a_pool_claim_takes_the_vm_free_the_longest(pool):
    run(bookings.book, BOB, "gen-2", 1, at(hours=-5), RULES)
    run(bookings.release, BOB, "gen-2", at(hours=-4))
    run(bookings.book, BOB, "gen-1", 1, at(hours=-3), RULES)
    run(bookings.release, BOB, "gen-1", at(hours=-2))
    # gen-3 was never booked, then gen-2 ended first.
    assert [b.vm_id for b in claim(ALICE)[0]] == ["gen-3"]
    assert [b.vm_id for b in claim(ALICE)[0]] == ["gen-2"]
    assert [b.vm_id for b in claim(ALICE)[0]] == ["gen-1"]


def test_a_count_is_all_or_nothing(pool):
    run(bookings.book, BOB, "gen-1", 2, T0, RULES)
    with pytest.raises(Conflict) as caught:
        claim(ALICE, count=3)
    assert caught.value.code == "not_available"
    assert "2 of the 3" in caught.value.message
    assert holder("gen-2") is None and holder("gen-3") is None
    made, _ = claim(ALICE, count=2)
    assert sorted(b.vm_id for b in made) == ["gen-2", "gen-3"]


def test_labels_narrow_a_pool(pool):
    run(catalog.edit_vm, ADMIN, "gen-2", {"labels": {"cpu": "16", "zone": "a"}}, T0)
    run(catalog.edit_vm, ADMIN, "spare", {"labels": {"cpu": "16"}}, T0)
    made, _ = claim(ALICE, target=Target(labels={"cpu": "16", "zone": "a"}))
    assert [b.vm_id for b in made] == ["gen-2"]
    made, _ = claim(ALICE, target=Target(labels={"cpu": "16"}))
    assert [b.vm_id for b in made] == ["spare"]
    with pytest.raises(Conflict):
        claim(ALICE, target=Target(labels={"cpu": "16"}))


def test_the_head_request_holds_freed_vms_while_a_later_one_waits(pool):
    for vm_id in pool:
        run(bookings.book, BOB, vm_id, 4, T0, RULES)
    _, first = claim(ALICE, count=2, wait=True)
    _, second = claim(CAROL, count=1, wait=True, now=at(minutes=1))
    assert (first.state, second.state) == ("waiting", "waiting")

    run(bookings.release, BOB, "gen-1", at(minutes=10))
    # The oldest request cannot be granted in full: gen-1 is kept for it, not for Carol.
    assert vm_row("gen-1").held_for == first.id
    assert request_state(second.id) == "waiting"
    with pytest.raises(Conflict) as caught:
        run(bookings.book, CAROL, "gen-1", 1, at(minutes=11), RULES)
    assert caught.value.code == "held"
    with pytest.raises(Conflict):
        claim(CAROL, now=at(minutes=11))

    run(bookings.release, BOB, "gen-3", at(minutes=20))
    assert request_state(first.id) == "granted"
    assert {holder("gen-1"), holder("gen-3")} == {ALICE.email}
    assert vm_row("gen-1").held_for is None
    granted = db.session.scalars(select(Booking).where(Booking.request_id == first.id)).all()
    assert {(b.vm_id, b.start, b.end) for b in granted} == {
        ("gen-1", at(minutes=20), at(hours=1, minutes=20)),
        ("gen-3", at(minutes=20), at(hours=1, minutes=20)),
    }
    # Then Carol is next.
    run(bookings.release, BOB, "gen-2", at(minutes=30))
    assert request_state(second.id) == "granted" and holder("gen-2") == CAROL.email
    [note] = db.session.scalars(
        select(Notification).where(
            Notification.type == "queue_granted", Notification.recipient == ALICE.email
        )
    ).all()
    assert "gen-1" in note.message and "gen-3" in note.message


def test_free_vms_are_held_from_the_moment_a_request_joins(pool):
    run(bookings.book, BOB, "gen-1", 4, T0, RULES)
    _, waiting = claim(ALICE, count=3, wait=True)
    assert {vm: vm_row(vm).held_for for vm in pool} == {
        "gen-1": None,
        "gen-2": waiting.id,
        "gen-3": waiting.id,
    }
    assert vm_row("gen-2").held_for is not None
    listed = {row.id: row for row in catalog.list_vms(status="held")}
    assert sorted(listed) == ["gen-2", "gen-3"]


def test_a_request_for_one_vm_waits_for_it(pool):
    run(bookings.book, BOB, "gen-1", 2, T0, RULES)
    _, waiting = claim(ALICE, target=Target(vm_id="gen-1"), wait=True)
    [shown] = queue_view.describe([waiting], T0)
    assert (shown["position"], shown["eta"]) == (1, at(hours=2).isoformat())
    run(bookings.release, BOB, "gen-1", at(minutes=5))
    assert holder("gen-1") == ALICE.email and request_state(waiting.id) == "granted"


def test_position_counts_only_competing_requests(pool):
    for vm_id in (*pool, "spare"):
        run(bookings.book, BOB, vm_id, 3, T0, RULES)
    _, a = claim(ALICE, wait=True)
    _, b = claim(CAROL, target=Target(vm_id="spare"), wait=True, now=at(seconds=1))
    _, c = claim(CAROL, target=Target(vm_id="gen-2"), wait=True, now=at(seconds=2))
    shown = {r["id"]: r for r in queue_view.describe([a, b, c], at(minutes=1))}
    assert [shown[r.id]["position"] for r in (a, b, c)] == [1, 1, 2]
    # c needs gen-2 after a took one of the three: the second expiry.
    assert shown[c.id]["eta"] == at(hours=3).isoformat()


def test_a_wait_that_runs_out_expires_and_frees_what_was_held(pool):
    run(bookings.book, BOB, "gen-1", 4, T0, RULES)
    _, first = claim(ALICE, count=3, wait=True, wait_minutes=30)
    _, second = claim(CAROL, count=1, wait=True, now=at(minutes=1))
    assert vm_row("gen-2").held_for == first.id
    assert queue.expiring_ids(at(minutes=29)) == []
    assert run(queue.expire_due, first.id, at(minutes=30)) is True
    assert run(queue.expire_due, first.id, at(minutes=31)) is False
    assert request_state(first.id) == "expired"
    assert request_state(second.id) == "granted"
    notes = db.session.scalars(
        select(Notification.recipient).where(Notification.type == "queue_expired")
    ).all()
    assert notes == [ALICE.email]


def test_leaving_the_queue(pool):
    for vm_id in pool:
        run(bookings.book, BOB, vm_id, 4, T0, RULES)
    _, waiting = claim(ALICE, wait=True)
    with pytest.raises(NotAllowed):
        run(queue.leave, CAROL, waiting.id, T0)
    run(queue.leave, ALICE, waiting.id, at(minutes=1))
    assert request_state(waiting.id) == "cancelled"
    with pytest.raises(Conflict) as caught:
        run(queue.leave, ADMIN, waiting.id, at(minutes=2))
    assert caught.value.code == "not_waiting"
    run(bookings.release, BOB, "gen-1", at(minutes=5))
    assert holder("gen-1") is None


def test_waiting_requests_per_person_are_limited(pool):
    for vm_id in pool:
        run(bookings.book, BOB, vm_id, 4, T0, RULES)
    two = replace(RULES, max_waiting=2)
    claim(ALICE, wait=True, rules=two)
    claim(ALICE, wait=True, rules=two)
    with pytest.raises(Conflict) as caught:
        claim(ALICE, wait=True, rules=two)
    assert caught.value.code == "quota_exceeded"


def test_without_wait_nothing_joins(pool):
    for vm_id in pool:
        run(bookings.book, BOB, vm_id, 4, T0, RULES)
    with pytest.raises(Conflict):
        claim(ALICE)
    assert db.session.scalar(select(QueueRequest.id)) is None


def test_a_grant_respects_reservations(pool):
    from loadzone.booking import reservations

    for vm_id in pool:
        run(bookings.book, BOB, vm_id, 1, T0, RULES)
    run(reservations.reserve, CAROL, "gen-1", at(hours=2), 2, T0, RULES)
    _, waiting = claim(ALICE, hours=3, wait=True)
    run(bookings.release, BOB, "gen-1", at(minutes=10))
    # gen-1 is reserved in under 3 hours: not for this request.
    assert request_state(waiting.id) == "waiting" and vm_row("gen-1").held_for is None
    run(bookings.release, BOB, "gen-2", at(minutes=20))
    assert holder("gen-2") == ALICE.email


def test_heartbeats_keep_a_booking_and_their_absence_releases_it(pool):
    made, _ = claim(ALICE, heartbeat_s=60)
    booking = made[0]
    assert (booking.heartbeat_s, booking.idle_at) == (60, at(seconds=60))
    with pytest.raises(NotAllowed):
        run(heartbeats.heartbeat, BOB, booking.id, at(seconds=30))
    run(heartbeats.heartbeat, ALICE, booking.id, at(seconds=50))
    assert heartbeats.idle_ids(at(seconds=100)) == []
    assert run(heartbeats.release_idle, booking.id, at(seconds=100)) is False
    assert heartbeats.idle_ids(at(seconds=110)) == [booking.id]
    assert run(heartbeats.release_idle, booking.id, at(seconds=110)) is True
    db.session.expire_all()
    ended = db.session.get(Booking, booking.id)
    assert (ended.state, ended.end_reason) == ("ended", "idle")
    [note] = db.session.scalars(
        select(Notification).where(Notification.type == "vm_idle_released")
    ).all()
    assert note.recipient == ALICE.email
    with pytest.raises(Conflict):
        run(heartbeats.heartbeat, ALICE, booking.id, at(seconds=120))


def test_usage_counts_the_queue(pool):
    from loadzone.reporting import usage

    for vm_id in pool:
        run(bookings.book, BOB, vm_id, 4, T0, RULES)
    _, first = claim(ALICE, wait=True, wait_minutes=600)
    _, second = claim(CAROL, wait=True, wait_minutes=30, now=at(minutes=1))
    _, third = claim(CAROL, wait=True, wait_minutes=600, now=at(minutes=2))
    run(queue.expire_due, second.id, at(minutes=31))
    run(bookings.release, BOB, "gen-1", at(minutes=40))
    run(bookings.release, BOB, "gen-2", at(minutes=62))
    figures = usage.report(at(hours=2), 7)["queue"]
    # Waits: 40 min for the first, 60 min for the third.
    assert figures == {"requests": 3, "granted": 2, "expired": 1, "median_wait_s": 3000.0}
