"""The pages as served (no browser): redirects, language choice, and markup the CSP allows."""

from __future__ import annotations

import json
import re

import pytest

SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)


def test_board_needs_a_session(app):
    response = app.test_client().get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")


def test_signed_in_login_page_leads_to_the_board(alice):
    response = alice.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")


@pytest.mark.parametrize(
    ("headers", "cookie", "expected"),
    [
        ({"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}, None, "ru"),
        ({"Accept-Language": "de-DE,en;q=0.5"}, None, "en"),
        ({}, None, "en"),
        ({"Accept-Language": "ru"}, "en", "en"),
        ({"Accept-Language": "en"}, "ru", "ru"),
        ({"Accept-Language": "ru"}, "xx", "ru"),
    ],
)
def test_language_from_cookie_then_browser(app, headers, cookie, expected):
    client = app.test_client()
    if cookie:
        client.set_cookie("lang", cookie)
    page = client.get("/login", headers=headers).get_data(as_text=True)
    assert f'<html lang="{expected}">' in page
    assert ("Вход" in page) == (expected == "ru")


@pytest.mark.parametrize("path", ["/", "/login", "/login?error=link"])
def test_pages_keep_to_the_content_security_policy(alice, path):
    client = alice if path == "/" else alice.application.test_client()
    page = client.get(path).get_data(as_text=True)
    for script in SCRIPT.finditer(page):
        attrs, body = script.group("attrs"), script.group("body")
        if 'type="application/json"' in attrs:
            json.loads(body)  # a data island, not code
        else:
            assert "src=" in attrs and not body.strip(), script.group(0)[:80]
    assert "<style" not in page
    assert " style=" not in page
    assert not re.search(r"\son[a-z]+=", page), "inline event handler"


def test_boot_island_describes_the_person(alice, admin):
    def boot(client):
        page = client.get("/").get_data(as_text=True)
        island = re.search(r'<script type="application/json" id="boot">(.*?)</script>', page)
        return json.loads(island.group(1))

    assert boot(alice) == {
        "email": "alice@example.com",
        "is_admin": False,
        "can_manage": False,
        "max_hours": 24,
        "reserve_days": 30,
        "warning_minutes": 60,
        "locale": "en",
    }
    assert boot(admin)["is_admin"] is True
