"""Backups taken under load open and hold together; restore refuses a live database and
brings a backup back; a data.json import either loads whole or changes nothing."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadzone.core import storage
from loadzone.core.timeutil import utcnow
from loadzone.errors import DomainError
from loadzone.extensions import db
from loadzone.reporting import seedfile
from tests.conftest import BACKENDS, ServerProcess
from tests.reliability.harness import ADMIN, Load, prepare
from tests.reliability.invariants import HOLDERS, Database, Report, check_consistency


def loadzone(db_url: str, instance, *args: str) -> subprocess.CompletedProcess:
    """The installed command, as an operator runs it beside the server."""
    env = {
        **os.environ,
        "LOADZONE_DATABASE_URL": db_url,
        "LOADZONE_INSTANCE_PATH": str(instance),
    }
    return subprocess.run(
        [sys.executable, "-m", "loadzone", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def consistency(url: str, prefix: str) -> tuple[Report, int]:
    """The invariants any committed state satisfies, and how many audit records it holds."""
    report, data = Report(), Database(url)
    try:
        _, history = check_consistency(data, prefix, report)
    finally:
        data.close()
    return report, len(history)


def audit_ids(path) -> set[int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM history")}
    finally:
        conn.close()


def owners(path) -> dict:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(conn.execute(HOLDERS).fetchall())
    finally:
        conn.close()


@pytest.mark.server
def test_sqlite_backups_under_load_then_restore(sqlite_template, tmp_path):
    path = tmp_path / "live.db"
    shutil.copy(sqlite_template, path)
    url, instance = f"sqlite:///{path}", tmp_path / "instance"
    server = ServerProcess(url, instance, admins=ADMIN, sweep_seconds=1).start()
    backups = [tmp_path / f"backup-{n}.db" for n in range(3)]
    try:
        vm_ids, tokens = prepare(server.url, "bk-", 8)
        load = Load(vm_ids, tokens, seed=7)
        load.start(server.url)
        try:
            for target in backups:
                load.wait_for_attempts(60)
                done = loadzone(url, instance, "backup", str(target))
                assert done.returncode == 0, done.stderr[-2000:]
                assert "integrity ok" in done.stdout
        finally:
            load.stop()
        writes = sum(1 for a in load.attempts if a.acknowledged)
        for target in backups:
            report, records = consistency(f"sqlite:///{target}", "bk-")
            assert not report.problems, (target.name, report.problems[:10])
            assert records > 0
        # Restoring over a database a server has open is refused, and replaces nothing (the
        # server's own expiries may go on meanwhile, so compare the append-only audit).
        before = audit_ids(path)
        refused = loadzone(url, instance, "restore", "--yes", str(backups[0]))
        assert refused.returncode == 1 and "stop every server" in refused.stderr, refused.stderr
        assert audit_ids(path) >= before
        assert not list(tmp_path.glob("live.db.before-restore-*"))
    finally:
        server.stop()

    restored = loadzone(url, instance, "restore", "--yes", str(backups[0]))
    assert restored.returncode == 0, restored.stderr[-2000:]
    assert owners(path) == owners(backups[0])
    assert list(tmp_path.glob("live.db.before-restore-*")), "the replaced database is kept"
    started = datetime.now(UTC)
    server = ServerProcess(url, instance, admins=ADMIN, sweep_seconds=1).start()
    server.stop()
    report, _ = consistency(url, "bk-")
    assert not report.problems, report.problems[:10]
    data = Database(url)
    try:  # what expired since the backup was released by the start-up
        assert not data.overdue("bk-", started)
    finally:
        data.close()
    print(
        f"backup[sqlite]: {len(backups)} online backups during {writes} acknowledged writes, "
        "each integrity ok and consistent; restore refused while served, then restored"
    )


# Only where a PostgreSQL database is configured: SQLite backups are tested above.
@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"])
def test_postgresql_backup_is_a_pg_dump(db_url, backend, tmp_path):
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    target = tmp_path / "loadzone.dump"
    instance = tmp_path / "instance"
    done = loadzone(db_url, instance, "backup", str(target))
    assert done.returncode == 0, done.stderr[-2000:]
    assert target.read_bytes().startswith(b"PGDMP")
    listing = subprocess.run(["pg_restore", "--list", str(target)], capture_output=True, text=True)
    assert listing.returncode == 0 and "TABLE public vms" in listing.stdout
    refused = loadzone(db_url, instance, "restore", "--yes", str(target))
    assert refused.returncode == 1 and "pg_restore" in refused.stderr


# -- import: whole or nothing -----------------------------------------------------------------

SEED = {
    "vms": [
        {"id": "a1", "group": 1, "booked_by": "ann@example.com", "expires_at": "2031-01-01T10:00Z"},
        {"id": "a2", "group": None, "booked_by": None, "expires_at": None},
    ],
    "groups": [{"id": 1, "name": "Perf", "vm_ids": ["a1"]}],
    "users": {
        "ann@example.com": {
            "created": "2024-01-01T00:00:00Z",
            "bookings": [
                {"vm_id": "a1", "start": "2030-12-31T10:00Z", "end": None, "action": "book"}
            ],
        }
    },
}

# Any JSON value at all, to put where the file format expects something else.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def _paths(value, prefix=()):
    """Every place in a JSON document, as a path of keys and indexes."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


PLACES = [p for p in _paths(SEED) if p]


def _mutated(place, replacement):
    import copy

    data = copy.deepcopy(SEED)
    target = data
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = replacement
    return data


def test_import_loads_whole_or_changes_nothing(app, backend):
    """Replace any one part of a valid file with any JSON value: the import either succeeds or
    refuses with a domain error, and a refusal leaves the database exactly as it was."""
    tried = {"refused": 0, "loaded": 0}
    with app.app_context():
        with storage.transaction():
            seedfile.import_state(SEED, utcnow())
        before = seedfile.export_state()

        @given(place=st.sampled_from(PLACES), replacement=json_values)
        @settings(
            max_examples=int(os.environ.get("LOADZONE_IMPORT_EXAMPLES", "150")),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(place, replacement):
            data = _mutated(place, replacement)
            try:
                with storage.transaction():
                    seedfile.import_state(data, utcnow(), replace=True)
            except DomainError:
                tried["refused"] += 1
                db.session.remove()
                assert seedfile.export_state() == before, (place, replacement)
                return
            tried["loaded"] += 1
            with storage.transaction():  # put the reference state back for the next example
                seedfile.import_state(SEED, utcnow(), replace=True)

        check()
        db.session.remove()
    print(
        f"import[{backend}]: {sum(tried.values())} mutated files, {tried['refused']} refused "
        f"with nothing changed, {tried['loaded']} loaded whole, 0 crashes"
    )
