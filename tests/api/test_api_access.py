"""Who may call what: sign-in, 401s, admin-only management, CSRF, personal API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import delete, error_of, snapshot
from tests.conftest import sign_in

BOOK = "/api/vms/vm-free/book"
PROTECTED = [
    ("get", "/api/me", None),
    ("get", "/api/me/tokens", None),
    ("post", "/api/me/tokens", {"name": "x"}),
    ("delete", "/api/me/tokens/1", None),
    ("get", "/api/me/bookings", None),
    ("get", "/api/vms", None),
    ("post", "/api/vms", {"id": "vm-new"}),
    ("get", "/api/vms/vm-free", None),
    ("patch", "/api/vms/vm-free", {"description": "x"}),
    ("delete", "/api/vms/vm-free", None),
    ("post", "/api/vms/vm-free/book", {"hours": 1}),
    ("post", "/api/vms/vm-booked/renew", {"hours": 1}),
    ("post", "/api/vms/vm-booked/release", {}),
    ("get", "/api/groups", None),
    ("post", "/api/groups", {"name": "G"}),
    ("get", "/api/groups/1", None),
    ("patch", "/api/groups/1", {"name": "G"}),
    ("delete", "/api/groups/1", None),
    ("get", "/api/history", None),
    ("get", "/api/notifications", None),
    ("post", "/api/notifications/read", {"all": True}),
    ("get", "/api/export", None),
    ("post", "/api/auth/logout", {}),
]


def call(client, method, path, payload, **headers):
    kwargs = {"headers": headers}
    if payload is not None:
        kwargs["json"] = payload
    elif method != "get":
        kwargs["content_type"] = "application/json"
    return getattr(client, method)(path, **kwargs)


@pytest.mark.parametrize(
    ("mode", "headers", "code"),
    [
        ("anonymous", {}, "not_signed_in"),
        ("bad token", {"Authorization": "Bearer lz_no"}, "bad_token"),
    ],
)
def test_every_protected_path_needs_a_valid_sign_in(app, stocked, admin, mode, headers, code):
    before = snapshot(admin)
    client = app.test_client()
    failures = []
    for method, path, payload in PROTECTED:
        try:
            error_of(call(client, method, path, payload, **headers), 401, code)
        except AssertionError as exc:
            failures.append(f"{method} {path}: {exc}")
    assert not failures, "\n".join(failures)
    assert snapshot(admin) == before


def test_me(app, alice, admin):
    me = alice.get("/api/me").get_json()
    assert (me["email"], me["is_admin"]) == ("alice@example.com", False)
    assert datetime.fromisoformat(me["created"]) <= datetime.now(UTC)
    assert admin.get("/api/me").get_json()["is_admin"] is True


def test_login_refuses_invalid_and_foreign_addresses(app_factory):
    app = app_factory(allowed_domains=("example.com",))
    client = app.test_client()
    error_of(client.post("/api/auth/login", json={"email": "not-an-email"}), 400, "invalid_email")
    error_of(
        client.post("/api/auth/login", json={"email": "eve@evil.org"}), 403, "domain_not_allowed"
    )
    error_of(client.get("/api/me"), 401)
    assert client.post("/api/auth/login", json={"email": "Dan@Example.com"}).status_code == 200
    assert client.get("/api/me").get_json()["email"] == "dan@example.com"


def test_logout_ends_every_session_of_the_person(app, alice):
    second = sign_in(app, "alice@example.com")
    assert alice.post("/api/auth/logout", json={}).status_code == 200
    error_of(alice.get("/api/me"), 401)
    error_of(second.get("/api/me"), 401)


# -- admin-only management -----------------------------------------------------------------

MANAGEMENT = [
    ("post", "/api/vms", {"id": "vm-new"}),
    ("patch", "/api/vms/vm-free", {"description": "changed"}),
    ("patch", "/api/vms/vm-free", {"maintenance": True}),
    ("patch", "/api/groups/1", {"name": "Renamed"}),
    ("patch", "/api/groups/1", {"vm_ids": []}),
    ("post", "/api/groups", {"name": "New"}),
    ("delete", "/api/vms/vm-free", None),
    ("delete", "/api/groups/1", None),
    ("delete", "/api/groups/2", None),
]


def test_non_admin_gets_403_on_management(stocked, admin, bob):
    before = snapshot(admin)
    failures = []
    for method, path, payload in MANAGEMENT:
        try:
            error_of(call(bob, method, path, payload), 403, "admin_only")
        except AssertionError as exc:
            failures.append(f"{method} {path}: {exc}")
    assert not failures, "\n".join(failures)
    assert snapshot(admin) == before


def test_admin_may_manage(stocked, admin):
    for method, path, payload in MANAGEMENT:  # in an order where each step is possible
        response = call(admin, method, path, payload)
        expected = 201 if method == "post" else 200
        assert response.status_code == expected, (method, path, response.get_json())
    assert admin.get("/api/groups").get_json() == []
    assert [vm["id"] for vm in admin.get("/api/vms").get_json()] == [
        "vm-booked",
        "vm-maint",
        "vm-new",
    ]


def test_export_is_admin_only_when_admins_are_configured(stocked, admin, bob):
    error_of(bob.get("/api/export"), 403, "admin_only")
    data = admin.get("/api/export").get_json()
    assert set(data) == {"vms", "groups", "users"}
    assert [vm["id"] for vm in data["vms"]] == ["vm-booked", "vm-free", "vm-maint"]


def test_without_admins_everyone_manages_but_nobody_overrides(app_factory):
    app = app_factory(admins=())
    alice, bob = sign_in(app, "alice@example.com"), sign_in(app, "bob@example.com")
    assert alice.get("/api/me").get_json()["is_admin"] is False
    assert alice.post("/api/vms", json={"id": "vm-1"}).status_code == 201
    assert bob.post("/api/vms", json={"id": "vm-2"}).status_code == 201
    group = bob.post("/api/groups", json={"name": "G", "vm_ids": ["vm-1"]}).get_json()
    assert alice.patch(f"/api/groups/{group['id']}", json={"name": "H"}).status_code == 200
    assert bob.patch("/api/vms/vm-1", json={"description": "d"}).status_code == 200
    assert delete(alice, "/api/vms/vm-2").status_code == 200
    assert bob.get("/api/export").status_code == 200
    # Booking rules still hold: only the owner renews or releases, no admin override.
    assert alice.post("/api/vms/vm-1/book", json={"hours": 2}).status_code == 200
    error_of(bob.post("/api/vms/vm-1/release", json={}), 403, "not_owner")
    error_of(bob.post("/api/vms/vm-1/renew", json={"hours": 1}), 403, "not_owner")
    later = (datetime.now(UTC) + timedelta(hours=5)).isoformat()
    error_of(alice.patch("/api/vms/vm-1", json={"expires_at": later}), 403)
    assert delete(bob, f"/api/groups/{group['id']}").status_code == 200
    assert alice.get("/api/vms/vm-1").get_json()["group"] is None


# -- CSRF ----------------------------------------------------------------------------------


def test_cookie_write_from_a_foreign_origin_is_refused(stocked, admin, alice):
    before = snapshot(admin)
    for origin in (
        "https://evil.example",
        "null",
        "http://localhost:8080",
        "http://localhost.evil",
    ):
        response = alice.post(BOOK, json={"hours": 1}, headers={"Origin": origin})
        error_of(response, 403, "csrf")
        response = admin.delete(
            "/api/vms/vm-free", content_type="application/json", headers={"Origin": origin}
        )
        error_of(response, 403, "csrf")
    assert snapshot(admin) == before


def test_cookie_write_from_our_own_origin_is_accepted(stocked, alice):
    response = alice.post(
        "/api/vms/vm-free/book", json={"hours": 1}, headers={"Origin": "http://localhost"}
    )
    assert response.status_code == 200


def test_public_url_origin_is_accepted(app_factory):
    app = app_factory(public_url="https://lz.example.com")
    alice = sign_in(app, "alice@example.com")
    ok = alice.post("/api/vms", json={"id": "vm-1"}, headers={"Origin": "https://lz.example.com"})
    assert ok.status_code == 201
    bad = alice.post("/api/vms", json={"id": "vm-2"}, headers={"Origin": "https://other.example"})
    error_of(bad, 403, "csrf")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/vms/vm-booked/release"),
        ("delete", "/api/vms/vm-free"),
        ("post", "/api/auth/logout"),
        ("delete", "/api/groups/1"),
    ],
)
def test_cookie_write_without_json_content_type_is_refused(stocked, admin, method, path):
    before = snapshot(admin)
    error_of(getattr(admin, method)(path), 403, "csrf")
    assert snapshot(admin) == before


def test_cookie_write_with_a_form_body_is_refused(stocked, admin, alice):
    before = snapshot(admin)
    response = alice.post("/api/vms/vm-free/book", data={"hours": "1"})
    error_of(response, 415, "unsupported_media_type")
    assert snapshot(admin) == before


def test_foreign_origin_on_login_is_refused(app):
    client = app.test_client()
    response = client.post(
        "/api/auth/login", json={"email": "a@example.com"}, headers={"Origin": "https://evil.test"}
    )
    error_of(response, 403, "csrf")
    error_of(client.get("/api/me"), 401)


def test_reads_do_not_need_an_origin_check(stocked, alice):
    response = alice.get("/api/vms", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200


def test_bearer_requests_need_no_origin_or_content_type(app, stocked, alice):
    secret = alice.post("/api/me/tokens", json={"name": "ci"}).get_json()["token"]
    script = app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}
    response = script.post(
        "/api/vms/vm-booked/release", headers={**auth, "Origin": "https://ci.example"}
    )
    assert response.status_code == 200, response.get_json()
    response = script.post(
        "/api/vms/vm-free/book", json={"hours": 1}, headers={**auth, "Origin": "https://ci.example"}
    )
    assert response.get_json()["booked_by"] == "alice@example.com"


# -- personal API tokens -------------------------------------------------------------------


def test_token_lifecycle(app, alice):
    response = alice.post("/api/me/tokens", json={"name": "ci"})
    assert response.status_code == 201
    token = response.get_json()
    assert set(token) == {"id", "name", "token", "created_at"}
    assert token["name"] == "ci"
    assert token["token"].startswith("lz_") and len(token["token"]) > 30

    listed = alice.get("/api/me/tokens").get_json()
    assert listed == [{"id": token["id"], "name": "ci", "created_at": token["created_at"]}]
    assert token["token"] not in alice.get("/api/me/tokens").get_data(as_text=True)

    script = app.test_client()
    auth = {"Authorization": f"Bearer {token['token']}"}
    assert script.get("/api/me", headers=auth).get_json()["email"] == "alice@example.com"

    assert delete(alice, f"/api/me/tokens/{token['id']}").status_code == 200
    error_of(script.get("/api/me", headers=auth), 401, "bad_token")
    assert alice.get("/api/me/tokens").get_json() == []
    error_of(delete(alice, f"/api/me/tokens/{token['id']}"), 404, "token_not_found")


def test_tokens_are_personal(app, alice, bob):
    mine = alice.post("/api/me/tokens", json={"name": "mine"}).get_json()
    bob.post("/api/me/tokens", json={"name": "bobs"})
    assert [t["name"] for t in bob.get("/api/me/tokens").get_json()] == ["bobs"]
    error_of(delete(bob, f"/api/me/tokens/{mine['id']}"), 404, "token_not_found")
    script = app.test_client()
    auth = {"Authorization": f"Bearer {mine['token']}"}
    assert script.get("/api/me", headers=auth).get_json()["email"] == "alice@example.com"


def test_each_token_is_distinct_and_revoking_one_keeps_the_other(app, alice):
    first = alice.post("/api/me/tokens", json={"name": "a"}).get_json()
    second = alice.post("/api/me/tokens", json={"name": "a"}).get_json()
    assert first["token"] != second["token"]
    delete(alice, f"/api/me/tokens/{first['id']}")
    script = app.test_client()
    assert (
        script.get("/api/me", headers={"Authorization": f"Bearer {second['token']}"}).status_code
        == 200
    )


@pytest.mark.parametrize("token_id", ["999", "0", "2147483648", "99999999999999999999"])
def test_unknown_token_id_is_404(alice, token_id):
    error_of(delete(alice, f"/api/me/tokens/{token_id}"), 404)
