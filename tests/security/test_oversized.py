"""Oversized bodies get a 413 answer from a real server, never a connection reset."""

from __future__ import annotations

import http.client
import json

import pytest

pytestmark = pytest.mark.server

BIG = 5 * 1024 * 1024


def connect(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=30)


def post(connection, path: str, body: bytes, content_type: str = "application/json"):
    connection.request("POST", path, body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    return response.status, response.read()


@pytest.mark.parametrize("size", [70 * 1024, 1024 * 1024, BIG])
def test_api_answers_413_in_the_error_shape(server_factory, size):
    connection = connect(server_factory().url)
    body = b'{"email": "' + b"a" * size + b'"}'
    status, raw = post(connection, "/api/auth/login", body)
    assert status == 413
    assert json.loads(raw)["error"]["code"] == "too_large"
    # The whole body was read: the same connection serves the next request.
    status, raw = post(connection, "/api/auth/login", b'{"email": "a@example.com"}')
    assert status == 200, raw
    connection.close()


def test_pages_answer_413_too_and_the_server_goes_on(server_factory):
    url = server_factory().url
    for _ in range(3):
        connection = connect(url)
        status, _ = post(connection, "/login", b"x" * BIG, "application/x-www-form-urlencoded")
        assert status == 413
        connection.close()
