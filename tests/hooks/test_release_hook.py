"""Release and book hooks with a real script: reset, hand-over, failures, timeouts, output."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from loadzone.extensions import db
from loadzone.models import HookRun
from tests.conftest import sign_in
from tests.hooks.conftest import alive


def _run_rows(app) -> list[HookRun]:
    with app.app_context():
        rows = list(db.session.scalars(select(HookRun).order_by(HookRun.id)))
        db.session.remove()
    return rows


def _notes(client, kind: str) -> list[dict]:
    items = client.get("/api/notifications?limit=100").get_json()["items"]
    return [note for note in items if note["type"] == kind]


def _vm_settled(app, vm_id: str) -> dict:
    """The vm_updated message that ends the VM's reset (after the one that began it)."""
    app.heard.wait("vm_updated", lambda d: d["id"] == vm_id and d["status"] == "resetting")
    return app.heard.wait("vm_updated", lambda d: d["id"] == vm_id and d["status"] != "resetting")


def test_a_released_vm_resets_then_goes_to_the_oldest_waiting_request(
    app, hook, admin, alice, bob, make_vm
):
    make_vm("vm-r", address="10.0.0.7:2222", labels={"os": "linux"})
    booking = alice.post("/api/vms/vm-r/book", json={"hours": 2}).get_json()
    waiting = bob.post("/api/bookings", json={"vm_id": "vm-r", "hours": 1, "wait": True})
    assert waiting.status_code == 202
    hook.close_gate()

    released = alice.post("/api/vms/vm-r/release", json={})
    assert released.get_json()["status"] == "resetting"
    hook.wait_started()
    carol = sign_in(app, "carol@example.com")
    refused = carol.post("/api/vms/vm-r/book", json={"hours": 1})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (409, "resetting")
    pooled = carol.post("/api/bookings", json={"labels": {"os": "linux"}, "hours": 1})
    assert (pooled.status_code, pooled.get_json()["error"]["code"]) == (409, "not_available")
    assert admin.get("/api/vms?status=resetting").get_json()[0]["id"] == "vm-r"

    hook.open_gate()
    after = _vm_settled(app, "vm-r")
    assert (after["status"], after["booked_by"]) == ("booked", "bob@example.com")
    _, env = hook.lines("start")[0].split(" ", 2)[1:]
    assert env == (
        f"release vm-r|10.0.0.7:2222|{json.dumps({'os': 'linux'})}|{booking['booking_id']}|"
        "alice@example.com|manual|unset"
    )
    (run,) = _run_rows(app)
    assert (run.kind, run.state, run.attempts, run.exit_code) == ("release", "done", 1, 0)


def _fail_and_clear(app, hook, admin, alice, make_vm, reason: str) -> None:
    make_vm("vm-f")
    alice.post("/api/vms/vm-f/book", json={"hours": 2})
    alice.post("/api/vms/vm-f/release", json={})
    after = _vm_settled(app, "vm-f")
    assert after["status"] == "maintenance"
    assert after["maintenance_reason"] == f"release hook {reason}"
    assert alice.post("/api/vms/vm-f/book", json={"hours": 1}).get_json()["error"]["code"] == (
        "in_maintenance"
    )
    (note,) = _notes(admin, "vm_reset_failed")
    assert note["vm_id"] == "vm-f" and reason in note["message"]
    assert _notes(alice, "vm_reset_failed") == []
    # Taking the VM out of maintenance clears the reason.
    cleared = admin.patch("/api/vms/vm-f", json={"maintenance": False}).get_json()
    assert (cleared["status"], cleared["maintenance_reason"]) == ("free", None)


def test_a_failing_hook_puts_the_vm_in_maintenance_and_tells_the_admins(
    app, hook, admin, alice, make_vm
):
    hook.fail_with(3, "reverting\nsnapshot clean-install is missing\n")
    _fail_and_clear(
        app, hook, admin, alice, make_vm, "exited with 3: snapshot clean-install is missing"
    )
    (run,) = _run_rows(app)
    assert (run.state, run.exit_code) == ("failed", 3)
    assert run.output.endswith("snapshot clean-install is missing\n")


@pytest.mark.parametrize("hook_timeout", [0.5])
def test_a_hook_past_its_timeout_is_killed_with_its_children(app, hook, admin, alice, make_vm):
    hook.close_gate()
    _fail_and_clear(app, hook, admin, alice, make_vm, "timed out after 0.5 s")
    pid = int(hook.lines("start")[0].split()[1])
    assert not alive(pid)
    assert hook.lines("done") == []


@pytest.mark.parametrize("hook_settings", [{"hook_release": ("/nonexistent/revert-vm",)}])
def test_a_hook_that_cannot_start_fails_the_reset(app, hook, admin, alice, make_vm):
    _fail_and_clear(app, hook, admin, alice, make_vm, "could not start: No such file or directory")


def test_megabytes_of_output_keep_only_a_bounded_tail(app, hook, admin, alice, make_vm):
    hook.flood()
    hook.fail_with(1, "last words\n")
    _fail_and_clear(app, hook, admin, alice, make_vm, "exited with 1: last words")
    (run,) = _run_rows(app)
    assert len(run.output) <= 4096 and run.output.endswith("xxxx\nlast words\n")


def test_a_hand_set_maintenance_may_carry_a_reason(app, admin, make_vm):
    make_vm("vm-m")
    body = {"maintenance": True, "maintenance_reason": "disk swap"}
    vm = admin.patch("/api/vms/vm-m", json=body).get_json()
    assert (vm["status"], vm["maintenance_reason"]) == ("maintenance", "disk swap")
    vm = admin.patch("/api/vms/vm-m", json={"maintenance": True}).get_json()
    assert vm["maintenance_reason"] is None
    too_long = admin.patch("/api/vms/vm-m", json={"maintenance_reason": "x" * 501})
    assert too_long.status_code == 400


@pytest.mark.parametrize("hook_kinds", [("book",)])
def test_a_failed_book_hook_keeps_the_booking_and_tells_owner_and_admins(
    app, hook, admin, alice, make_vm
):
    make_vm("vm-b")
    hook.fail_with(2, "power on failed\n")
    booked = alice.post("/api/vms/vm-b/book", json={"hours": 2}).get_json()
    assert booked["status"] == "booked"
    note = app.heard.wait("notification", lambda d: d["type"] == "vm_book_hook_failed")
    assert "book hook" in note["message"] and "exited with 2: power on failed" in note["message"]
    assert len(_notes(alice, "vm_book_hook_failed")) == 1
    assert len(_notes(admin, "vm_book_hook_failed")) == 1
    vm = admin.get("/api/vms/vm-b").get_json()
    assert (vm["status"], vm["booked_by"], vm["maintenance"]) == ("booked", alice_email(), False)
    start = hook.lines("start")[0]
    assert f"book vm-b||{{}}|{booked['booking_id']}|alice@example.com||" in start


def alice_email() -> str:
    return "alice@example.com"
