"""`lz` without a LoadZone server: how it installs, usage errors, a server that is not
there, and one that answers only errors."""

from __future__ import annotations

import json
import subprocess
import time
from http.server import BaseHTTPRequestHandler

import pytest

from tests.client.lzproc import clean_env
from tests.conftest import free_port
from tests.listeners import http_server

URL = "http://127.0.0.1:9"  # never contacted: usage errors stop before any request


def test_the_client_installs_alone_with_requests_only(lz_venv):
    python = str(lz_venv / "bin" / "python")
    env = clean_env()
    probe = "import loadzone_client, requests; print(loadzone_client.__file__)"
    found = subprocess.run([python, "-c", probe], env=env, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert str(lz_venv) in found.stdout  # installed, not picked up from the working tree
    for server_only in ("loadzone", "flask", "sqlalchemy"):
        missing = subprocess.run([python, "-c", f"import {server_only}"], env=env)
        assert missing.returncode != 0, f"{server_only} should not be installed"


@pytest.mark.parametrize(
    ("args", "settings", "says"),
    [
        (["book", "--hours", "1"], {}, "Give a target"),
        (["book", "--vm", "vm-1"], {}, "--hours"),
        (["book", "--vm", "vm-1", "--hours", "1", "--wait", "30"], {}, "Bad duration"),
        (["book", "--vm", "vm-1", "--hours", "1", "--wait", "2d"], {}, "Bad duration"),
        (["book", "--vm", "vm-1", "--hours", "1", "--wait", "25h"], {}, "24h"),
        (["book", "--vm", "vm-1", "--hours", "1", "--count", "2"], {}, "--count"),
        (["book", "--vm", "vm-1", "--group", "g", "--hours", "1"], {}, "--vm"),
        (["book", "--label", "os", "--hours", "1"], {}, "KEY=VALUE"),
        (["book", "--vm", "vm-1", "--hours", "1", "--heartbeat", "5"], {}, "--heartbeat"),
        (["book", "--vm", "vm-1", "--hours", "1"], {"token": None}, "LOADZONE_TOKEN"),
        (["book", "--vm", "vm-1", "--hours", "1"], {"url": None}, "LOADZONE_URL"),
        (["run", "--vm", "vm-1", "--hours", "1"], {}, "command after --"),
        (["run", "--vm", "vm-1", "--hours", "1", "--"], {}, "command after --"),
        (["release"], {}, "--booking"),
        (["status", "--", "ls"], {}, "no command"),
        (["fly"], {}, "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line(lz, args, settings, says):
    given = {"url": URL, "token": "secret", **settings}
    result = lz(*args, **given)
    assert result.returncode == 2, result
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert says in line


def test_an_unreachable_server_exits_5_after_bounded_retries(lz):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    result = lz("book", "--vm", "vm-1", "--hours", "1", url=url, token="secret")
    assert result.returncode == 5, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2  # one retry (LOADZONE_RETRIES=2), then giving up
    assert "retrying" in lines[0] and "gave up after 2 attempts" in lines[1]
    assert "Connection refused" in lines[1]
    assert time.monotonic() - started < 10


def test_retries_are_spread_over_the_configured_back_off(lz):
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    settings = {"LOADZONE_RETRIES": "3", "LOADZONE_RETRY_DELAY": "0.5"}
    result = lz("queue", url=url, token="secret", **settings)
    elapsed = time.monotonic() - started
    assert result.returncode == 5
    assert result.stderr.count("retrying") == 2
    assert 1.5 <= elapsed < 10  # 0.5 s, then 1 s (plus up to a quarter of jitter)


class Failing(BaseHTTPRequestHandler):
    """Answers every request with the server's status and a LoadZone-shaped error."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.seen.append(self.command)
        body = json.dumps({"error": {"code": "broken", "message": "it broke"}}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *_args) -> None:
        pass


def test_a_server_answering_503_is_retried_then_exit_5(lz):
    # 503 says nothing was done: even a booking is sent again.
    with http_server(Failing, status=503, seen=[]) as server:
        result = book_through(lz, server)
    assert result.returncode == 5, result
    assert server.seen == ["POST", "POST"]  # LOADZONE_RETRIES=2
    assert "answered 503: it broke" in result.stderr
    assert "gave up after 2 attempts" in result.stderr.splitlines()[-1]


def test_a_500_to_a_booking_is_not_repeated_but_reads_are(lz):
    # The booking may have been made: sending it again could book twice.
    with http_server(Failing, status=500, seen=[]) as server:
        booked = book_through(lz, server)
        assert booked.returncode == 5, booked
        assert server.seen == ["POST"]
        assert "answered 500" in booked.stderr and "retrying" not in booked.stderr
        server.seen.clear()
        listed = lz("queue", url=address(server), token="secret")
    assert listed.returncode == 5, listed
    assert server.seen == ["GET", "GET"]


def address(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def book_through(lz, server):
    return lz("book", "--vm", "vm-1", "--hours", "1", url=address(server), token="secret")
