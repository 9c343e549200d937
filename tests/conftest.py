"""Shared fixtures: a fresh app and database per test, on SQLite and (when configured)
PostgreSQL, sign-in helpers, factories and a real server process."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from loadzone import create_app
from loadzone.config import database_url, load_settings
from tests import waiting
from tests.sockets import Watcher

os.environ["LOADZONE_ENV_FILE"] = os.devnull  # a developer's .env must not leak into tests
PG_URL = os.environ.get("LOADZONE_TEST_DATABASE_URL")
# Multi-instance tests need Redis for Socket.IO events between instances.
REDIS_URL = os.environ.get("LOADZONE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
TABLES = (
    "mail_preferences, calendar_feeds, "
    "notification_reads, notifications, history, bookings, requests, vm_labels, api_tokens, "
    "usage_days, usage_marks, usage_people, usage_vm_groups, "
    "login_links, vms, groups, users, event_counter, deliveries, extend_links"
)
TABLES += ", hook_runs"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    folder = tmp_path_factory.mktemp("template")
    app = create_app(load_settings(folder, rate_limit=False, auth_mode="open"))
    with app.app_context():
        from loadzone.extensions import db

        db.engine.dispose()
    return folder / "loadzone.db"


@pytest.fixture(scope="session")
def pg_migrated() -> str | None:
    if not PG_URL:
        return None
    url = database_url(PG_URL, Path("."))
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    app = create_app(load_settings(folder, database_url=url, rate_limit=False))
    with app.app_context():
        from loadzone.extensions import db

        db.engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(backend, tmp_path, sqlite_template, request) -> str:
    """A URL to an empty, migrated database of the chosen backend."""
    if backend == "sqlite":
        target = tmp_path / "loadzone.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("pg_migrated")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def make_settings(tmp_path, db_url):
    """Settings for this test's database; keyword arguments override any field."""

    def make(**overrides):
        values = dict(database_url=db_url, rate_limit=False, auth_mode="open", admins=())
        values.update(overrides)
        return load_settings(tmp_path / "instance", **values)

    return make


@pytest.fixture
def app_factory(make_settings):
    apps = []

    def make(**overrides):
        app = create_app(make_settings(**overrides), migrate=False)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield make
    from loadzone.extensions import db

    for app in apps:
        if app.extensions.get("loadzone.outbox"):
            app.extensions["loadzone.outbox"].close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    """The default app: open sign-in, admin@example.com is the only admin."""
    return app_factory(admins=("admin@example.com",))


def sign_in(app, email: str):
    """A test client signed in as `email` by the session cookie."""
    client = app.test_client()
    response = client.post("/api/auth/login", json={"email": email})
    assert response.status_code == 200, response.get_json()
    return client


@pytest.fixture
def alice(app):
    return sign_in(app, "alice@example.com")


@pytest.fixture
def bob(app):
    return sign_in(app, "bob@example.com")


@pytest.fixture
def admin(app):
    return sign_in(app, "admin@example.com")


@pytest.fixture
def make_vm(admin):
    """Factory: add a VM through the API (as the admin) and return its JSON."""
    counter = iter(range(1, 10**6))

    def make(vm_id: str | None = None, **fields):
        body = {"id": vm_id or f"vm-{next(counter)}", **fields}
        response = admin.post("/api/vms", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def make_booking(make_vm):
    """Factory: a VM booked by `client` for `hours`."""

    def make(client, hours: int = 2, vm_id: str | None = None):
        vm = make_vm(vm_id)
        response = client.post(f"/api/vms/{vm['id']}/book", json={"hours": hours})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return make


def utc(**delta) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


# -- a real server process -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`loadzone run` in a child process, on this test's database."""

    def __init__(self, db_url: str, instance: Path, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.instance = instance
        self.env = {
            **os.environ,
            "LOADZONE_DATABASE_URL": db_url,
            "LOADZONE_INSTANCE_PATH": str(instance),
            "LOADZONE_PORT": str(self.port),
            "LOADZONE_AUTH_MODE": "open",
            "LOADZONE_RATE_LIMIT": "off",
            "LOADZONE_THREADS": "200",
            # Keep concurrent test runs from hearing each other's events.
            "LOADZONE_REDIS_CHANNEL": f"loadzone-test-{os.getpid()}",
            **{f"LOADZONE_{k.upper()}": str(v) for k, v in env.items()},
        }
        self.log = instance / f"server-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> ServerProcess:
        self.instance.mkdir(parents=True, exist_ok=True)
        handle = open(self.log, "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "loadzone", "run"],
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        waiting.until_answers(self.proc, self.url + "/healthz", self.log, timeout)
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean shutdown at all."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=10)
            self._wait_port_closed()

    def _wait_port_closed(self, timeout: float = 10) -> None:
        """The worker dies a moment after the master: wait until the port refuses."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.02)
        raise RuntimeError(f"port {self.port} still accepts after kill")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server_factory(db_url, tmp_path):
    servers: list[ServerProcess] = []

    def make(**env) -> ServerProcess:
        server = ServerProcess(db_url, tmp_path / "instance", **env)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()


def api_session(base_url: str, email: str) -> requests.Session:
    """A requests session signed in (open mode) with a bearer token for `email`."""
    session = requests.Session()
    response = session.post(base_url + "/api/auth/login", json={"email": email}, timeout=10)
    assert response.status_code == 200, response.text
    token = session.post(base_url + "/api/me/tokens", json={"name": "tests"}, timeout=10)
    session.cookies.clear()
    session.headers["Authorization"] = "Bearer " + token.json()["token"]
    session.token = token.json()["token"]
    return session


# -- a real SMTP server --------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler collecting every message."""

    def __init__(self):
        self.messages: queue.Queue = queue.Queue()

    async def handle_DATA(self, server, session, envelope):
        self.messages.put((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"

    def next(self, timeout: float = 15):
        return self.messages.get(timeout=timeout)


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def watcher_factory():
    watchers: list[Watcher] = []

    def make(base_url: str, token: str | None = None, **kwargs) -> Watcher:
        watcher = Watcher(base_url, token, **kwargs)
        watchers.append(watcher)
        return watcher.connect()

    yield make
    for watcher in watchers:
        watcher.close()
