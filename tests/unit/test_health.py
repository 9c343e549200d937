"""Health probes in process: address parsing, verdicts from real sockets, the lease, and
pool claims skipping VMs that are down."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest

from loadzone.booking import claims
from loadzone.booking.pools import Target
from loadzone.errors import Conflict
from loadzone.extensions import db
from loadzone.inventory import catalog, health, probing
from tests.conftest import free_port
from tests.listeners import Listener
from tests.unit.conftest import ADMIN, ALICE, RULES, T0, run
from tests.unit.conftest import vm_row as _vm_row


def vm_row(vm_id: str):
    """The VM as committed now: the prober writes from a session of its own."""
    db.session.rollback()
    return _vm_row(vm_id)


@pytest.mark.parametrize(
    "address, target",
    [
        ("10.0.0.5", ("10.0.0.5", 22)),
        ("vm-3.lab.example.org", ("vm-3.lab.example.org", 22)),
        ("10.0.0.5:2222", ("10.0.0.5", 2222)),
        ("[fd00::5]", ("fd00::5", 22)),
        ("[fd00::5]:2200", ("fd00::5", 2200)),
    ],
)
def test_an_address_without_a_port_is_probed_on_22(address, target):
    assert health.probe_target(address) == target


def test_down_takes_two_failures_in_a_row_and_up_one_success():
    streaks = health.Streaks()
    key = ("vm-1", "10.0.0.5")
    assert streaks.verdict(key, False) is None
    assert streaks.verdict(key, True) == "up"
    assert streaks.verdict(key, False) is None  # the success reset the count
    assert streaks.verdict(key, False) == "down"
    assert streaks.verdict(key, False) == "down"
    assert streaks.verdict(key, True) == "up"
    streaks.verdict(key, False)
    streaks.keep_only(set())
    assert streaks.verdict(key, False) is None  # a forgotten VM starts over


@pytest.fixture
def listener():
    port = Listener()
    yield port
    port.close()


@pytest.fixture
def prober(ctx):
    made = probing.Prober(ctx, 0.5)
    loop = asyncio.new_event_loop()
    # Rounds run on a thread of their own, as in the server: the browser tests' sync
    # Playwright keeps an event loop running on the main thread.
    with ThreadPoolExecutor(1) as thread:
        yield lambda: thread.submit(made.round, loop).result()
        thread.submit(loop.close).result()
    made.lease.release()


def test_a_closed_port_goes_down_after_two_rounds_and_up_when_it_reopens(add_vm, prober, listener):
    add_vm("vm-1", address=listener.address)
    add_vm("vm-2")  # no address: never probed
    assert vm_row("vm-1").health is None
    assert prober() == ["vm-1"]
    first = vm_row("vm-1")
    assert (first.health, first.health_since) == ("up", first.health_since)
    assert prober() == []  # no change, no write: the instant stays
    assert vm_row("vm-1").health_since == first.health_since

    listener.close()
    assert prober() == []  # one failure says nothing yet
    assert vm_row("vm-1").health == "up"
    assert prober() == ["vm-1"]
    assert vm_row("vm-1").health == "down"
    assert vm_row("vm-2").health is None

    listener.open()
    assert prober() == ["vm-1"]
    assert vm_row("vm-1").health == "up"


def test_an_unanswered_connect_is_given_up_within_the_timeout():
    async def check(silent_port: int):
        refused = await probing.reachable("127.0.0.1", free_port(), 1.0)
        started = asyncio.get_running_loop().time()
        silent = await probing.reachable("127.0.0.1", silent_port, 0.2)
        return refused, silent, asyncio.get_running_loop().time() - started

    # A port nobody listens on refuses at once. A listener whose accept queue is full drops
    # further SYNs, so a connect there is never answered.
    with socket.socket() as server, ExitStack() as fillers:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        for _ in range(3):
            filler = fillers.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        with ThreadPoolExecutor(1) as thread:  # a loop of its own, off the main thread
            refused, silent, took = thread.submit(asyncio.run, check(port)).result()
    assert (refused, silent) == (False, False)
    assert took < 1.0


def test_a_new_address_is_unknown_until_probed(add_vm, prober, listener):
    add_vm("vm-1", address=listener.address)
    prober()
    assert vm_row("vm-1").health == "up"
    run(catalog.edit_vm, ADMIN, "vm-1", {"address": "127.0.0.1:1"})
    assert vm_row("vm-1").health is None
    run(catalog.edit_vm, ADMIN, "vm-1", {"address": None})
    assert vm_row("vm-1").health is None


def test_probes_off_make_every_health_unknown(add_vm, prober, listener):
    add_vm("vm-1", address=listener.address)
    prober()
    assert vm_row("vm-1").health == "up"
    assert run(health.forget, T0) == ["vm-1"]
    assert vm_row("vm-1").health is None
    assert catalog.describe_many(["vm-1"])[0]["health"] == "unknown"


def _claim(target: Target, count: int = 1):
    ask = claims.Ask(target=target, hours=1, count=count)
    made, _ = run(claims.request, ALICE, ask, T0, RULES)
    return sorted(booking.vm_id for booking in made)


def test_a_pool_claim_skips_a_vm_that_is_down_but_naming_it_works(ctx, add_vm):
    group = run(catalog.create_group, ADMIN, T0, "lab").id
    for vm_id in ("vm-a", "vm-b", "vm-c"):
        add_vm(vm_id, group=group, address=f"{vm_id}.lab:22")
    run(health.store, {"vm-a": ("vm-a.lab:22", "down"), "vm-b": ("vm-b.lab:22", "up")}, T0)
    assert catalog.describe_many(["vm-a"])[0]["health"] == "down"
    with pytest.raises(Conflict) as refused:
        _claim(Target(group=group), count=3)
    assert refused.value.code == "not_available"
    assert _claim(Target(group=group), count=2) == ["vm-b", "vm-c"]
    assert _claim(Target(vm_id="vm-a")) == ["vm-a"]


def test_only_one_instance_holds_the_probe_lease(ctx, app_factory):
    other = app_factory()
    first, second = probing.Lease(ctx), probing.Lease(other)
    try:
        assert first.hold()
        if db.engine.dialect.name == "sqlite":
            return  # SQLite serves one instance: it always probes
        assert not second.hold()
        assert first.hold()  # kept, not taken twice
        first.release()
        assert second.hold()
        assert not first.hold()
    finally:
        first.release()
        second.release()


def test_the_queue_grants_a_vm_only_once_it_is_no_longer_down(ctx, add_vm):
    group = run(catalog.create_group, ADMIN, T0, "lab").id
    add_vm("vm-a", group=group, address="vm-a.lab")
    run(health.store, {"vm-a": ("vm-a.lab", "down")}, T0)
    ask = claims.Ask(target=Target(group=group), hours=1, wait=True)
    made, waiting = run(claims.request, ALICE, ask, T0, RULES)
    assert made == [] and waiting.state == "waiting"
    assert vm_row("vm-a").held_for is None  # nothing to hold: the only VM is down

    run(health.store, {"vm-a": ("vm-a.lab", "up")}, T0)
    assert vm_row("vm-a").booked_by == ALICE.email
