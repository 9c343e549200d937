"""Rate limits, CSRF, authorization, tokens, headers and cookies."""

from __future__ import annotations

import time

from tests.conftest import sign_in, utc
from tests.unit import due


def test_login_rate_limit_triggers_and_lifts(app_factory):
    app = app_factory(rate_limit=True, login_limit="3/2second")
    client = app.test_client()
    for _ in range(3):
        assert client.post("/api/auth/login", json={"email": "a@example.com"}).status_code == 200
    limited = client.post("/api/auth/login", json={"email": "a@example.com"})
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    wait = int(limited.headers["Retry-After"])
    assert 1 <= wait <= 2
    # Another address is limited separately (per-address limit).
    assert client.post("/api/auth/login", json={"email": "b@example.com"}).status_code == 200
    time.sleep(wait + 0.2)  # the window itself is what is being tested
    assert client.post("/api/auth/login", json={"email": "a@example.com"}).status_code == 200


def test_write_limit_per_person(app_factory):
    app = app_factory(rate_limit=True, write_limit="5/minute", admins=())
    alice, bob = sign_in(app, "alice@example.com"), sign_in(app, "bob@example.com")
    codes = [alice.post("/api/vms", json={"id": f"a{i}"}).status_code for i in range(6)]
    assert codes == [201] * 5 + [429]
    assert bob.post("/api/vms", json={"id": "b0"}).status_code == 201
    assert alice.get("/api/vms").status_code == 200  # reads are not limited


def test_cross_site_post_is_refused_and_changes_nothing(alice, make_vm):
    vm = make_vm()
    before = alice.get("/api/vms").get_json()
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}):
        response = alice.post(f"/api/vms/{vm['id']}/book", json={"hours": 1}, headers=headers)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "csrf"
    same = alice.post(
        f"/api/vms/{vm['id']}/book", json={"hours": 1}, headers={"Origin": "http://localhost"}
    )
    assert same.status_code == 200
    assert before[0]["booked_by"] is None


def test_form_and_bodyless_cookie_posts_are_refused(alice, make_vm):
    vm = make_vm()
    form = alice.post(f"/api/vms/{vm['id']}/book", data={"hours": "1"})
    assert form.status_code == 415
    plain = alice.post(f"/api/vms/{vm['id']}/book", data="hours=1", content_type="text/plain")
    assert plain.status_code == 415
    bare = alice.post(f"/api/vms/{vm['id']}/release")
    assert bare.status_code == 403
    assert alice.get(f"/api/vms/{vm['id']}").get_json()["booked_by"] is None


def test_others_bookings_cannot_be_changed(alice, bob, make_booking):
    vm = make_booking(alice)
    path = f"/api/vms/{vm['id']}"
    assert bob.post(path + "/renew", json={"hours": 1}).status_code == 403
    assert bob.post(path + "/release", json={}).status_code == 403
    assert bob.patch(path, json={"expires_at": utc(minutes=5).isoformat()}).status_code == 403
    assert alice.patch(path, json={"expires_at": utc(minutes=5).isoformat()}).status_code == 403
    assert alice.get(path).get_json() == vm


def test_admin_actions_are_audited(alice, admin, make_booking):
    vm = make_booking(alice)
    admin.patch(f"/api/vms/{vm['id']}", json={"expires_at": utc(minutes=30).isoformat()})
    admin.post(f"/api/vms/{vm['id']}/release", json={})
    items = admin.get("/api/history", query_string={"vm_id": vm["id"]}).get_json()["items"]
    release, retime, book = items
    assert (release["action"], release["reason"], release["actor"], release["user"]) == (
        "release",
        "admin",
        "admin@example.com",
        "alice@example.com",
    )
    assert (retime["actor"], retime["user"], retime["reason"]) == (
        "admin@example.com",
        "alice@example.com",
        "admin",
    )
    assert book["actor"] == "alice@example.com"


def test_revoked_token_stops_at_once(app):
    owner = sign_in(app, "alice@example.com")
    created = owner.post("/api/me/tokens", json={"name": "ci"}).get_json()
    bearer = {"Authorization": f"Bearer {created['token']}"}
    script = app.test_client()
    assert script.get("/api/me", headers=bearer).status_code == 200
    listed = owner.get("/api/me/tokens").get_json()
    assert [t["name"] for t in listed] == ["ci"] and "token" not in listed[0]
    other = sign_in(app, "bob@example.com")
    assert other.delete(f"/api/me/tokens/{created['id']}", json={}).status_code == 404
    assert owner.delete(f"/api/me/tokens/{created['id']}", json={}).status_code == 200
    assert script.get("/api/me", headers=bearer).status_code == 401


def test_notifications_are_private(app, alice, bob, admin, make_booking):
    vm = make_booking(alice)
    admin.patch(f"/api/vms/{vm['id']}", json={"expires_at": utc(minutes=10).isoformat()})
    with app.app_context():
        from loadzone.core.storage import transaction
        from loadzone.core.timeutil import utcnow

        with transaction():
            due.warn_due(vm["id"], utcnow(), app.extensions["loadzone.rules"])
    mine = [n["type"] for n in alice.get("/api/notifications").get_json()["items"]]
    theirs = [n["type"] for n in bob.get("/api/notifications").get_json()["items"]]
    assert "expiry_warning" in mine and "expiry_warning" not in theirs
    hidden = [
        n["id"]
        for n in alice.get("/api/notifications").get_json()["items"]
        if n["type"] == "expiry_warning"
    ]
    assert bob.post("/api/notifications/read", json={"ids": hidden}).get_json()["marked"] == 0


def test_headers_and_cookie_flags(app_factory):
    app = app_factory(public_url="https://loadzone.example.com")
    client = app.test_client()
    response = client.post(
        "/api/auth/login", json={"email": "a@example.com"}, base_url="https://loadzone.example.com"
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    plain = app_factory().test_client().post("/api/auth/login", json={"email": "a@example.com"})
    assert "Secure" not in plain.headers["Set-Cookie"]


def test_html_comes_back_as_data(admin):
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    vm = admin.post("/api/vms", json={"id": "xss", "description": payload}).get_json()
    group = admin.post("/api/groups", json={"name": payload[:100]}).get_json()
    assert vm["description"] == payload and group["name"] == payload[:100]
    response = admin.get("/api/vms/xss")
    assert response.mimetype == "application/json"
    assert response.get_json()["description"] == payload
