"""One-click extend links: in the warning, read-only on GET, once on POST, refused with a
reason when used, forged, ended or against the policy."""

from __future__ import annotations

from datetime import datetime, timedelta

from loadzone.booking import expiry
from loadzone.core.storage import transaction
from loadzone.extensions import db
from loadzone.models import Booking, ExtendLink
from tests.conftest import sign_in


def warn(app, vm_id: str) -> dict:
    """Send the booking of `vm_id` its expiry warning (as the job would, 30 min before)."""
    with app.app_context():
        booking = db.session.query(Booking).filter_by(vm_id=vm_id, state="active").one()
        booking_id, end = booking.id, booking.end
        with transaction():
            rules = app.extensions["loadzone.rules"]
            assert expiry.warn_due(booking_id, end - timedelta(minutes=30), rules)
    return end


def warning_of(client) -> dict:
    items = client.get("/api/notifications").get_json()["items"]
    return next(n for n in items if n["type"] == "expiry_warning")


def end_of(client, vm_id: str) -> datetime:
    return datetime.fromisoformat(client.get(f"/api/vms/{vm_id}").get_json()["expires_at"])


def path_of(url: str) -> str:
    return url[url.index("/extend/") :]


def test_warning_carries_a_link_that_adds_one_hour_once(app, alice, bob, make_booking):
    vm = make_booking(alice, hours=2)
    end = warn(app, vm["id"])
    warning = warning_of(alice)
    assert warning["extend_url"].startswith("http://localhost/extend/")
    assert warning["owner"] == "alice@example.com" and warning["expires_at"]
    anonymous, link = app.test_client(), path_of(warning["extend_url"])

    # GET only shows the offer, however often.
    for _ in range(2):
        page = anonymous.get(link)
        assert page.status_code == 200
        assert 'name="token"' in page.get_data(as_text=True)
    assert end_of(alice, vm["id"]) == end

    token = link.rsplit("/", 1)[1]
    done = anonymous.post("/extend", data={"token": token})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert 'id="extend-done"' in done.get_data(as_text=True)
    assert end_of(alice, vm["id"]) == end + timedelta(hours=1)
    renewed = [n for n in bob.get("/api/notifications").get_json()["items"]]
    assert renewed[0]["type"] == "vm_renewed" and renewed[0]["actor"] == "alice@example.com"

    again = anonymous.post("/extend", data={"token": token})
    assert again.status_code == 409 and 'data-code="link_used"' in again.get_data(as_text=True)
    assert anonymous.get(link).status_code == 409
    assert end_of(alice, vm["id"]) == end + timedelta(hours=1)


def test_only_a_hash_of_the_token_is_stored(app, alice, make_booking):
    vm = make_booking(alice)
    warn(app, vm["id"])
    token = warning_of(alice)["extend_url"].rsplit("/", 1)[1]
    with app.app_context():
        (link,) = db.session.query(ExtendLink).all()
        assert token not in link.token_hash and len(link.token_hash) == 64


def test_forged_and_malformed_links_are_404(app, alice, make_booking):
    vm = make_booking(alice)
    warn(app, vm["id"])
    token = warning_of(alice)["extend_url"].rsplit("/", 1)[1]
    client = app.test_client()
    for forged in (token[:-2] + "xx", "x", "ä" * 10, "a" * 500):
        page = client.get(f"/extend/{forged}")
        assert page.status_code == 404, forged
        assert 'data-code="link_unknown"' in page.get_data(as_text=True)
        assert client.post("/extend", data={"token": forged}).status_code == 404
    assert client.post("/extend", data={}).status_code == 400
    assert client.post("/extend", data={"token": "a\x00b"}).status_code == 404


def test_a_link_is_refused_after_its_booking_ends(app, alice, make_booking):
    vm = make_booking(alice)
    warn(app, vm["id"])
    token = warning_of(alice)["extend_url"].rsplit("/", 1)[1]
    assert alice.post(f"/api/vms/{vm['id']}/release", json={}).status_code == 200
    # Someone books the VM again: the old link must not extend the new booking.
    assert alice.post(f"/api/vms/{vm['id']}/book", json={"hours": 1}).status_code == 200
    client = app.test_client()
    page = client.post("/extend", data={"token": token})
    assert page.status_code == 409
    assert 'data-code="booking_ended"' in page.get_data(as_text=True)
    assert client.get(f"/extend/{token}").status_code == 409


def test_policy_refusal_shows_why_and_keeps_the_link(app_factory, make_settings):
    app = app_factory(admins=("admin@example.com",), max_hours=2)
    alice, admin = sign_in(app, "alice@example.com"), sign_in(app, "admin@example.com")
    admin.post("/api/vms", json={"id": "vm-1"})
    assert alice.post("/api/vms/vm-1/book", json={"hours": 2}).status_code == 200
    end = warn(app, "vm-1")
    token = warning_of(alice)["extend_url"].rsplit("/", 1)[1]
    page = app.test_client().post("/extend", data={"token": token})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert 'data-code="refused"' in text and "more than 2 h from now" in text
    assert end_of(alice, "vm-1") == end
    assert app.test_client().get(f"/extend/{token}").status_code == 200  # not used up


def test_a_reservation_right_after_refuses_the_hour(app, alice, bob, make_booking):
    vm = make_booking(alice, hours=2)
    end = warn(app, vm["id"])
    start = end.isoformat()
    answer = bob.post("/api/bookings", json={"vm_id": vm["id"], "hours": 1, "start": start})
    assert answer.status_code == 201, answer.get_json()
    token = warning_of(alice)["extend_url"].rsplit("/", 1)[1]
    page = app.test_client().post("/extend", data={"token": token})
    assert page.status_code == 409 and 'data-code="refused"' in page.get_data(as_text=True)
    assert end_of(alice, vm["id"]) == end


def test_a_cross_site_form_post_is_refused(app, alice, make_booking):
    vm = make_booking(alice)
    end = warn(app, vm["id"])
    token = warning_of(alice)["extend_url"].rsplit("/", 1)[1]
    page = app.test_client().post(
        "/extend", data={"token": token}, headers={"Origin": "https://evil.example"}
    )
    assert page.status_code == 403
    assert end_of(alice, vm["id"]) == end


def test_the_link_uses_the_public_url_and_the_warning_reads_alone(app_factory):
    app = app_factory(public_url="https://loadzone.example.com")
    alice, admin = sign_in(app, "alice@example.com"), sign_in(app, "admin@example.com")
    admin.post("/api/vms", json={"id": "vm-1"})
    assert admin.post("/api/groups", json={"name": "Perf", "vm_ids": ["vm-1"]}).status_code == 201
    alice.post("/api/vms/vm-1/book", json={"hours": 2})
    end = warn(app, "vm-1")
    warning = warning_of(alice)
    assert warning["extend_url"].startswith("https://loadzone.example.com/extend/")
    assert warning["group_name"] == "Perf" and warning["owner"] == "alice@example.com"
    assert datetime.fromisoformat(warning["expires_at"]) == end
