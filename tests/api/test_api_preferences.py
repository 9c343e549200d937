"""Preferences: which notification types also come by e-mail, checked with a real SMTP server."""

from __future__ import annotations

import pytest

from loadzone.core import storage
from loadzone.notifications import courier
from loadzone.notifications.notify import BROADCAST_TYPES, PERSONAL_TYPES
from tests.api.conftest import error_of
from tests.conftest import sign_in, utc
from tests.unit import due

DEFAULT_ON = {
    "expiry_warning",
    "vm_auto_released",
    "queue_granted",
    "reservation_started",
    "vm_idle_released",
}


def prefs(client) -> dict:
    response = client.get("/api/me/preferences")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["email"]


def test_get_lists_every_type_with_its_default(alice):
    email = prefs(alice)
    assert set(email) == BROADCAST_TYPES | PERSONAL_TYPES
    assert {t for t, on in email.items() if on} == DEFAULT_ON


def test_put_changes_only_the_named_types_per_person(alice, bob):
    body = {"email": {"expiry_warning": False, "vm_added": True}}
    response = alice.put("/api/me/preferences", json=body)
    assert response.status_code == 200, response.get_json()
    after = response.get_json()["email"]
    assert after["expiry_warning"] is False and after["vm_added"] is True
    assert after["queue_granted"] is True and after["vm_booked"] is False
    assert prefs(alice) == after
    alice.put("/api/me/preferences", json={"email": {"vm_added": False}})
    assert prefs(alice)["expiry_warning"] is False and prefs(alice)["vm_added"] is False
    assert {t for t, on in prefs(bob).items() if on} == DEFAULT_ON


@pytest.mark.parametrize(
    "body",
    [
        {"email": {"no_such_type": True}},
        {"email": {"expiry_warning": False, "no_such_type": True}},
        {"email": {"expiry_warning": "false"}},
        {"email": {"expiry_warning": 0}},
        {"email": {"expiry_warning": None}},
        {"email": ["expiry_warning"]},
        {"email": {"expiry_warning": False}, "extra": 1},
        {},
        [],
    ],
)
def test_bad_bodies_are_400_and_change_nothing(alice, body):
    before = prefs(alice)
    error_of(alice.put("/api/me/preferences", json=body), 400)
    assert prefs(alice) == before


def test_preferences_need_a_person(app):
    error_of(app.test_client().get("/api/me/preferences"), 401)


def test_mail_follows_the_preferences(app_factory, smtp):
    controller, inbox = smtp
    app = app_factory(admins=("admin@example.com",), smtp_url=f"smtp://127.0.0.1:{controller.port}")
    admin, alice, bob = (sign_in(app, f"{n}@example.com") for n in ("admin", "alice", "bob"))
    off = {"email": {"expiry_warning": False}}
    assert alice.put("/api/me/preferences", json=off).status_code == 200
    assert bob.put("/api/me/preferences", json={"email": {"vm_added": True}}).status_code == 200
    for who, vm_id in ((alice, "vm-a"), (bob, "vm-b")):
        assert admin.post("/api/vms", json={"id": vm_id}).status_code == 201
        assert who.post(f"/api/vms/{vm_id}/book", json={"hours": 2}).status_code == 200
    with app.app_context():
        for vm_id in ("vm-a", "vm-b"):
            with storage.transaction():
                assert due.warn_due(vm_id, utc(minutes=90), app.extensions["loadzone.rules"])
    # Every queued mail is delivered (or was never queued) once the pool has drained.
    courier.Courier(app).drain()
    mails = []
    while not inbox.messages.empty():
        recipients, message = inbox.next()
        mails.append((recipients, message["Subject"], message.get_payload(decode=True).decode()))
    assert sorted((r, s) for r, s, _ in mails) == [
        (["bob@example.com"], "LoadZone: vm added"),
        (["bob@example.com"], "LoadZone: vm added"),
        (["bob@example.com"], "Your LoadZone booking ends soon"),
    ]
    assert any("vm-b" in body for _, s, body in mails if s.endswith("ends soon"))
