"""Sign-in by e-mailed link: proves the address, once, for 15 minutes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from loadzone.core.storage import transaction
from loadzone.extensions import db
from loadzone.models import LoginLink
from tests.conftest import utc

LINK = re.compile(r"https?://\S+/auth/verify\?token=(\S+)")


@pytest.fixture
def link_app(app_factory, smtp):
    controller, _inbox = smtp
    return app_factory(
        auth_mode="link",
        smtp_url=f"smtp://127.0.0.1:{controller.port}",
        allowed_domains=("example.com",),
    )


def request_link(app, inbox, email: str) -> str:
    client = app.test_client()
    response = client.post("/api/auth/login", json={"email": email})
    assert response.status_code == 202
    recipients, message = inbox.next()
    assert recipients == [email.lower()]
    return LINK.search(message.get_payload(decode=True).decode()).group(1)


def test_link_signs_in_once(link_app, smtp):
    token = request_link(link_app, smtp[1], "alice@example.com")
    browser = link_app.test_client()
    assert browser.get("/api/me").status_code == 401
    first = browser.get(f"/auth/verify?token={token}")
    assert first.status_code == 303 and first.headers["Location"] == "/"
    assert browser.get("/api/me").get_json()["email"] == "alice@example.com"

    other = link_app.test_client()
    again = other.get(f"/auth/verify?token={token}")
    assert again.headers["Location"].startswith("/login?error=")
    assert other.get("/api/me").status_code == 401


def test_expired_and_forged_links_are_refused(link_app, smtp):
    token = request_link(link_app, smtp[1], "alice@example.com")
    with link_app.app_context(), transaction():
        db.session.execute(update(LoginLink).values(expires_at=utc(seconds=-1)))
    browser = link_app.test_client()
    assert browser.get(f"/auth/verify?token={token}").headers["Location"].startswith("/login")
    assert browser.get("/api/me").status_code == 401
    for forged in ("", "x", token[:-2] + "AA", "' OR 1=1 --"):
        assert browser.get("/auth/verify", query_string={"token": forged}).status_code == 303
        assert browser.get("/api/me").status_code == 401


def test_answer_is_identical_for_known_and_unknown_addresses(link_app, smtp):
    request_link(link_app, smtp[1], "known@example.com")
    client = link_app.test_client()
    known = client.post("/api/auth/login", json={"email": "known@example.com"})
    unknown = client.post("/api/auth/login", json={"email": "nobody@example.com"})
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json())
    assert known.headers.get("Set-Cookie") is None and unknown.headers.get("Set-Cookie") is None


def test_other_domains_are_refused(link_app):
    response = link_app.test_client().post("/api/auth/login", json={"email": "eve@evil.org"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "domain_not_allowed"
    assert "example.com" in response.get_json()["error"]["message"]


def test_console_delivery_without_smtp(app_factory, capsys):
    app = app_factory(auth_mode="link")
    response = app.test_client().post("/api/auth/login", json={"email": "a@example.com"})
    assert response.status_code == 202
    assert response.get_json()["delivery"] == "console"
    token = LINK.search(capsys.readouterr().out).group(1)
    browser = app.test_client()
    browser.get(f"/auth/verify?token={token}")
    assert browser.get("/api/me").get_json()["email"] == "a@example.com"


def test_logout_and_secret_rotation_end_sessions(app_factory):
    app = app_factory()
    browser = app.test_client()
    browser.post("/api/auth/login", json={"email": "a@example.com"})
    stolen = browser.get_cookie("loadzone_session").value
    assert browser.post("/api/auth/logout", json={}).status_code == 200
    replay = app.test_client()
    replay.set_cookie("loadzone_session", stolen)
    assert replay.get("/api/me").status_code == 401

    browser.post("/api/auth/login", json={"email": "a@example.com"})
    cookie = browser.get_cookie("loadzone_session").value
    rotated = app_factory(secret_key="a-new-secret-key-after-rotation")
    client = rotated.test_client()
    client.set_cookie("loadzone_session", cookie)
    assert client.get("/api/me").status_code == 401
