"""LOADZONE_LOG_FORMAT=json in a real server: every line is JSON, and one request id ties the
response, the access line and the audit record together; no secret reaches the log."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import api_session

pytestmark = pytest.mark.server


def _lines(server) -> list[dict]:
    raw = [line for line in server.log.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in raw]  # fails on any line that is not JSON


def _history_request_ids(db_url: str, booking_id: int) -> list[tuple[str, str | None]]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT action, request_id FROM history WHERE booking_id = :b ORDER BY id"),
            {"b": booking_id},
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_one_request_id_in_the_response_the_log_line_and_the_audit_record(server_factory, db_url):
    server = server_factory(admins="admin@example.com", log_format="json")
    url = server.url
    admin = api_session(url, "admin@example.com")
    alice = api_session(url, "alice@example.com")
    assert admin.post(f"{url}/api/vms", json={"id": "vm-j"}).status_code == 201

    booked = alice.post(
        f"{url}/api/bookings",
        json={"vm_id": "vm-j", "hours": 1},
        headers={"X-Request-ID": "ci-run-42.step:7"},
    )
    assert booked.status_code == 201, booked.text
    assert booked.headers["X-Request-ID"] == "ci-run-42.step:7"
    booking_id = booked.json()["bookings"][0]["id"]
    released = alice.delete(
        f"{url}/api/bookings/{booking_id}", headers={"X-Request-ID": "bad id; drop table"}
    )
    assert released.status_code == 200
    made_up = released.headers["X-Request-ID"]
    assert len(made_up) == 32 and made_up != "bad id; drop table"

    lines = _lines(server)
    access = [line for line in lines if line["logger"] == "loadzone.access"]
    book_line = next(line for line in access if line["request_id"] == "ci-run-42.step:7")
    assert (book_line["method"], book_line["route"], book_line["status"]) == (
        "POST",
        "/api/bookings",
        201,
    )
    assert book_line["duration_ms"] >= 0 and book_line["level"] == "INFO"
    release_line = next(line for line in access if line["request_id"] == made_up)
    assert release_line["route"] == "/api/bookings/<int:booking_id>"
    assert any(line["logger"].startswith("gunicorn") for line in lines)
    assert _history_request_ids(db_url, booking_id) == [
        ("book", "ci-run-42.step:7"),
        ("release", made_up),
    ]


def test_tokens_cookies_and_secret_links_stay_out_of_the_log(server_factory):
    server = server_factory(log_format="json")
    url = server.url
    signed_in = requests.Session()
    assert signed_in.post(f"{url}/api/auth/login", json={"email": "carol@example.com"}).ok
    cookie = signed_in.cookies["loadzone_session"]
    token = signed_in.post(f"{url}/api/me/tokens", json={"name": "ci"}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    feed = requests.post(f"{url}/api/me/calendar", headers=bearer, timeout=10).json()["url"]
    assert requests.get(feed, timeout=10).status_code == 200
    assert requests.get(f"{url}/api/me?token={token}", headers=bearer, timeout=10).ok

    log = server.log.read_text()
    secret = feed.rsplit("/", 1)[1].split(".")[0]
    for leaked in (token, cookie, secret):
        assert leaked not in log
    routes = {line.get("route") for line in _lines(server)}
    assert "/api/me" in routes and any(r and "<" in r and "calendar" in r for r in routes)
