"""kill -9 under a mixed load, restart on the same database: nothing acknowledged is lost."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import delete, update

from loadzone.models import Booking, HistoryEntry
from tests.conftest import ServerProcess, sign_in
from tests.reliability.harness import ADMIN, crash_run
from tests.reliability.invariants import Attempt, Database, Report, check_all

# Per backend: CI runs SQLite and PostgreSQL, so a run survives at least twice this many.
KILLS = int(os.environ.get("LOADZONE_CRASH_KILLS", "12"))


@pytest.mark.server
def test_kill9_under_load_loses_nothing(db_url, backend, tmp_path):
    report = crash_run(
        lambda: ServerProcess(db_url, tmp_path / "instance", admins=ADMIN, sweep_seconds=1),
        db_url,
        kills=KILLS,
        log=print,
    )
    print(report.summary(f"crash[{backend}]"))
    print(f"crash[{backend}] statuses: {dict(report.statuses)}")
    assert report.kills >= KILLS
    assert report.acknowledged > 0 and report.auto_released > 0 and report.warnings > 0
    assert not report.problems, "\n".join(report.problems[:50])
    assert report.lost == 0


def test_the_checker_notices_lost_and_wrong_writes(app, db_url):
    """The invariants are not vacuous: damage an acknowledged write and they say so."""
    admin, alice = sign_in(app, ADMIN), sign_in(app, "alice@example.com")
    for vm_id in ("crash-0", "crash-1"):
        assert admin.post("/api/vms", json={"id": vm_id}).status_code == 201
    attempts = []
    for vm_id in ("crash-0", "crash-1"):
        response = alice.post(f"/api/vms/{vm_id}/book", json={"hours": 2})
        attempts.append(Attempt("book", vm_id, "alice@example.com", 1.0, 2.0, 200, response.json))
    data = Database(db_url)
    try:
        assert check_all(data, "crash-", attempts, Report()).problems == []
        with data.engine.begin() as conn:
            conn.execute(delete(HistoryEntry).where(HistoryEntry.vm_id == "crash-0"))
            conn.execute(
                update(Booking)
                .where(Booking.vm_id == "crash-1", Booking.state == "active")
                .values(owner="bob@example.com")
            )
        report = check_all(data, "crash-", attempts, Report())
    finally:
        data.close()
    assert report.lost >= 2
    assert any("crash-0" in p and "without a record" in p for p in report.problems)
    assert any("crash-1" in p and "last record" in p for p in report.problems)
