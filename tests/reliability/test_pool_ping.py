"""PostgreSQL connections are pinged before use only after sitting idle: a connection whose
server process ended meanwhile is replaced before a request sees it, and a busy pool
pays no round trip per request."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from loadzone.core import storage
from loadzone.extensions import db
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"])


@pytest.fixture
def pings(app, monkeypatch):
    """The connections the pool pinged."""
    found = []
    with app.app_context():
        dialect = db.engine.dialect
    ping = dialect.do_ping

    def counted(dbapi_connection):
        found.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return found


def _backend_pid(app) -> int:
    with app.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()
        return pid


def test_a_connection_ended_while_idle_is_replaced_before_use(
    app, alice, make_vm, db_url, monkeypatch
):
    make_vm("vm-1")
    before = _backend_pid(app)
    outside = create_engine(db_url, poolclass=NullPool)
    with outside.begin() as conn:  # as a database restart would
        assert conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": before})
    outside.dispose()
    monkeypatch.setattr(storage, "PING_IDLE_SECONDS", -1.0)  # every pooled one is "idle"
    answer = alice.post("/api/vms/vm-1/book", json={"hours": 1})
    assert answer.status_code == 200, answer.get_json()
    assert _backend_pid(app) != before


def test_a_busy_pool_does_not_ping_and_an_idle_one_does(app, alice, make_vm, pings, monkeypatch):
    make_vm("vm-1")
    alice.get("/api/vms")
    pings.clear()
    for _ in range(5):
        assert alice.get("/api/vms").status_code == 200
    assert pings == []
    monkeypatch.setattr(storage, "PING_IDLE_SECONDS", -1.0)
    assert alice.get("/api/vms").status_code == 200
    assert len(pings) >= 1
