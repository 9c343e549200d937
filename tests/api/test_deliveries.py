"""The outbox without a courier running: rows follow commits, claims are exclusive, retries
back off and give up, and administrators see and retry what failed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loadzone.core.storage import transaction
from loadzone.core.timeutil import utcnow
from loadzone.extensions import db
from loadzone.models import Delivery
from loadzone.notifications import channels, outbox
from tests.conftest import sign_in

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def wired(app_factory):
    """An app with mail and a webhook configured (nothing listens: no courier runs here)."""
    return app_factory(
        admins=("admin@example.com",), webhook_url=HOOK, smtp_url="smtp://127.0.0.1:9"
    )


def rows(app) -> list[Delivery]:
    with app.app_context():
        found = db.session.query(Delivery).order_by(Delivery.id).all()
        db.session.expunge_all()
        return found


def test_each_notification_becomes_deliveries_in_its_transaction(wired):
    admin, alice = sign_in(wired, "admin@example.com"), sign_in(wired, "alice@example.com")
    admin.post("/api/vms", json={"id": "vm-1"})
    assert [(r.channel, r.target) for r in rows(wired)] == [("webhook", HOOK)]
    # A refused change writes nothing.
    assert alice.post("/api/vms/vm-1/book", json={"hours": 99}).status_code == 400
    assert len(rows(wired)) == 1
    alice.post("/api/vms/vm-1/book", json={"hours": 1})
    found = rows(wired)
    assert [r.channel for r in found] == ["webhook", "webhook"]
    assert len({r.key for r in found}) == 2 and {r.state for r in found} == {"pending"}


def test_mail_goes_only_where_mail_is_wanted(wired):
    from tests.api.test_extend import warn

    admin, alice = sign_in(wired, "admin@example.com"), sign_in(wired, "alice@example.com")
    off = {"email": {"expiry_warning": False}}
    assert alice.put("/api/me/preferences", json=off).status_code == 200
    admin.post("/api/vms", json={"id": "vm-1"})
    alice.post("/api/vms/vm-1/book", json={"hours": 2})
    warn(wired, "vm-1")
    assert "mail" not in {r.channel for r in rows(wired)}
    alice.put("/api/me/preferences", json={"email": {"expiry_warning": True}})
    admin.post("/api/vms/vm-1/release", json={})  # vm_auto_released is mailed; a release is not
    alice.post("/api/vms/vm-1/book", json={"hours": 2})
    warn(wired, "vm-1")
    mails = [r for r in rows(wired) if r.channel == "mail"]
    assert [m.target for m in mails] == ["alice@example.com"]
    assert "extend_url" not in mails[0].payload  # derived when sent, never stored


def test_a_claim_is_exclusive_until_its_lease_ends(wired):
    sign_in(wired, "admin@example.com").post("/api/vms", json={"id": "vm-1"})
    now = utcnow()
    with wired.app_context():
        with transaction():
            first = outbox.claim(now)
        with transaction():
            assert outbox.claim(now) is None  # claimed, and not yet due again
        with transaction():
            again = outbox.claim(now + outbox.LEASE + timedelta(seconds=1))
        assert first.key == again.key and again.attempts == 2
        with transaction():
            outbox.sent(first, now)  # the first lease ran out: its outcome does not count
        with transaction():
            outbox.sent(again, now)
    assert [(r.state, r.attempts) for r in rows(wired)] == [("sent", 2)]


def test_failures_back_off_then_give_up(app_factory):
    app = app_factory(admins=("admin@example.com",), webhook_url=HOOK, delivery_hours=1)
    sign_in(app, "admin@example.com").post("/api/vms", json={"id": "vm-1"})
    now, waits = utcnow(), []
    with app.app_context():
        while True:
            with transaction():
                item = outbox.claim(now)
            with transaction():
                state = outbox.retry_or_fail(item, "webhook answered 503", now)
            if state == "failed":
                break
            (row,) = rows(app)
            waits.append((row.next_at - now).total_seconds())
            now = row.next_at
    assert waits[:5] == [1, 2, 4, 8, 16] and max(waits) == 900
    assert sum(waits) <= 3600
    (row,) = rows(app)
    assert row.state == "failed" and row.last_error == "webhook answered 503"


def test_admins_list_and_retry_failed_deliveries(wired):
    admin, alice = sign_in(wired, "admin@example.com"), sign_in(wired, "alice@example.com")
    admin.post("/api/vms", json={"id": "vm-1"})
    with wired.app_context():
        with transaction():
            item = outbox.claim(utcnow())
        with transaction():
            outbox.retry_or_fail(item, "webhook answered 410", utcnow(), final=True)
    assert wired.test_client().get("/healthz").get_json()["deliveries_failed"] == 1

    listed = admin.get("/api/deliveries?state=failed").get_json()
    (failed,) = listed["items"]
    assert failed["channel"] == "webhook" and failed["last_error"] == "webhook answered 410"
    assert alice.get("/api/deliveries").status_code == 403
    assert alice.post(f"/api/deliveries/{failed['id']}/retry", json={}).status_code == 403
    assert admin.get("/api/deliveries?state=lost").status_code == 400
    assert admin.post("/api/deliveries/999/retry", json={}).status_code == 404
    assert admin.post(f"/api/deliveries/{2**70}/retry", json={}).status_code == 404

    retried = admin.post(f"/api/deliveries/{failed['id']}/retry", json={})
    assert retried.status_code == 200
    assert retried.get_json()["state"] == "pending" and retried.get_json()["key"] == failed["key"]
    assert admin.post(f"/api/deliveries/{failed['id']}/retry", json={}).status_code == 409
    assert wired.test_client().get("/healthz").get_json()["deliveries_failed"] == 0
    assert admin.get("/api/deliveries?state=pending").get_json()["items"][0]["id"] == failed["id"]


def test_teams_format_is_an_adaptive_card_that_reads_alone(wired):
    payload = {
        "id": 7,
        "type": "vm_booked",
        "message": "alice@example.com booked VM vm-1 for 2 h",
        "vm_id": "vm-1",
        "owner": "alice@example.com",
        "expires_at": "2030-01-01T10:00:00Z",
        "group_name": "Perf",
    }
    with wired.test_request_context():
        body = channels.webhook_body(payload, "teams")
        plain = channels.webhook_body(payload, "json")
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][1]["text"] == payload["message"]
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts == {
        "VM": "vm-1",
        "Group": "Perf",
        "Owner": "alice@example.com",
        "Ends": "2030-01-01T10:00:00Z",
    }
    assert "actions" not in card
    assert plain == {"text": "LoadZone: " + payload["message"], "notification": payload}
