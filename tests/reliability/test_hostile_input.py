"""Hostile bytes at a live server: huge, deep, broken or lying requests get a 4xx, never a 500,
and the server goes on serving. Against gunicorn, since it parses the request line and headers."""

from __future__ import annotations

import json
import socket

import pytest
import requests

from tests.conftest import api_session

pytestmark = pytest.mark.server
ADMIN = "admin@example.com"


def body_cases() -> dict[str, bytes]:
    """Request bodies (all declared as JSON) that must be refused with the JSON error shape."""
    return {
        "1 MB object": json.dumps({"id": "big", "description": "a" * 1_000_000}).encode(),
        "100k nested arrays": b"[" * 100_000 + b"]" * 100_000,
        "30k nested arrays (under the size limit)": b"[" * 30_000 + b"]" * 30_000,
        "5k nested objects": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
        "invalid UTF-8": b'{"id": "\xff\xfe"}',
        "UTF-8 encoded surrogate": b'{"id": "\xed\xa0\x80"}',
        "escaped lone surrogate": b'{"id": "x", "description": "\\ud800"}',
        "NUL in a string": b'{"id": "x", "description": "a\\u0000b"}',
        "truncated JSON": b'{"id": "x", "descr',
        "not an object": b'["id", "x"]',
        "huge number": b'{"id": "x", "group": 1' + b"0" * 5000 + b"}",
        "deep inside a valid field": b'{"id": "x", "description": ' + b"[" * 50 + b"]" * 50 + b"}",
    }


def header_cases(token: str) -> dict[str, dict]:
    auth = {"Authorization": f"Bearer {token}"}
    return {
        "64 KB header": {**auth, "X-Big": "a" * 65_536},
        "8 KB header": {**auth, "X-Big": "a" * 8_200},
        "200 headers": {**auth, **{f"X-H{i}": "v" for i in range(200)}},
        "64 KB token": {"Authorization": "Bearer " + "a" * 65_536},
        "Latin-1 token": {"Authorization": "Bearer " + "\xff" * 10},
        "8 KB cookie": {"Cookie": "loadzone_session=" + "a" * 8_000},
    }


def raw_cases(token: str) -> dict[str, bytes]:
    """Requests no client library would send."""
    auth = f"Authorization: Bearer {token}\r\n".encode()
    return {
        "Content-Length longer than the body": b"POST /api/vms HTTP/1.1\r\nHost: x\r\n"
        + auth
        + b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id"',
        "negative Content-Length": b"GET /api/vms HTTP/1.1\r\nHost: x\r\n"
        + b"Content-Length: -5\r\n\r\n",
        "chunked and Content-Length": b"POST /api/vms HTTP/1.1\r\nHost: x\r\n"
        + auth
        + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        "not HTTP": b"GARBAGE\r\n\r\n",
        "NUL in the path": b"GET /api/vms/a%00b HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n",
        "64 KB request line": b"GET /api/vms?q=" + b"a" * 65_536 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        "bad chunk size": b"POST /api/vms HTTP/1.1\r\nHost: x\r\n"
        + auth
        + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
        "chunk without terminator": b"POST /api/vms/vm-1/book HTTP/1.1\r\nHost: x\r\n"
        + auth
        + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b'5\r\n{"hoXX',
        "bad chunk to Socket.IO": b"POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n"
        + b"Host: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
        "64 KB to Socket.IO": b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\n"
        + b"Host: x\r\nContent-Type: text/plain\r\nContent-Length: 65536\r\n\r\n"
        + b"4" * 65536,
    }


def raw_status(port: int, payload: bytes) -> int | None:
    """Send raw bytes, half-close, return the status of the answer (None: connection closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        head = sock.recv(64)
    return int(head.split()[1]) if head.startswith(b"HTTP/") else None


def test_hostile_requests_get_4xx_and_the_server_stays_up(server_factory, backend):
    server = server_factory(admins=ADMIN)
    url = server.url
    admin = api_session(url, ADMIN)
    assert admin.post(f"{url}/api/vms", json={"id": "vm-1"}).status_code == 201
    answers: dict[str, int | None] = {}

    for name, data in body_cases().items():
        for path in ("/api/vms", "/api/vms/vm-1/book", "/api/vms/vm-1"):
            method = "PATCH" if path == "/api/vms/vm-1" else "POST"
            # A fresh connection each: gunicorn drops a kept-alive connection rather than drain
            # more than 64 KB of a body the app refused unread.
            headers = {"Content-Type": "application/json", "Connection": "close"}
            response = admin.request(method, url + path, data=data, headers=headers)
            answers[f"{name} {method} {path}"] = response.status_code
            assert 400 <= response.status_code < 500, (name, path, response.text[:300])
            error = response.json()["error"]
            assert set(error) == {"code", "message"}, (name, error)
    for name, headers in header_cases(admin.token).items():
        response = requests.get(f"{url}/api/vms", headers=headers, timeout=30)
        answers[name] = response.status_code
        assert response.status_code in (400, 401, 431), (name, response.status_code)
    for name, payload in raw_cases(admin.token).items():
        answers[name] = status = raw_status(server.port, payload)
        assert status is None or 400 <= status < 500, (name, status)

    # Nothing above changed anything, and the server still answers normally.
    vms = admin.get(f"{url}/api/vms").json()
    assert [(vm["id"], vm["booked_by"]) for vm in vms] == [("vm-1", None)]
    assert admin.post(f"{url}/api/vms/vm-1/book", json={"hours": 1}).status_code == 200
    assert "Traceback" not in server.log.read_text(errors="replace")
    statuses = sorted({s for s in answers.values() if s is not None})
    print(
        f"hostile[{backend}]: {len(answers)} hostile requests, answered {statuses}, "
        "0 500s, server up"
    )
