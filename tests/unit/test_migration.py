"""The upgrade that turns part one's booking columns into booking rows, on both engines."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from loadzone.config import database_url
from loadzone.core.storage import alembic_config
from tests.conftest import PG_URL

T = datetime(2030, 5, 1, 8, 0)
HISTORY = [
    # vm-a: booked, renewed, released by hand; then booked again and still held.
    (1, T, "book", None, "vm-a", "alice@x.org", "alice@x.org", T.replace(hour=10)),
    (2, T.replace(hour=9), "renew", None, "vm-a", "alice@x.org", "alice@x.org", T.replace(hour=12)),
    (3, T.replace(hour=11), "release", "manual", "vm-a", "alice@x.org", "alice@x.org", None),
    (4, T.replace(hour=13), "book", None, "vm-a", "bob@x.org", "bob@x.org", T.replace(hour=20)),
    # vm-b: expired by the system.
    (5, T, "book", None, "vm-b", "bob@x.org", "bob@x.org", T.replace(hour=9)),
    (6, T.replace(hour=9), "release", "expired", "vm-b", "bob@x.org", None, None),
]


@pytest.fixture
def old_database(backend, tmp_path):
    """An empty database of the chosen engine, for migrating step by step."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"lz_migration_{os.getpid()}"
    admin = create_engine(database_url(PG_URL, tmp_path), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield database_url(PG_URL.rsplit("/", 1)[0] + "/" + name, tmp_path)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def migrate(engine, revision: str) -> None:
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), revision)
        conn.commit()


def test_upgrade_turns_held_vms_and_history_into_bookings(old_database):
    engine = create_engine(old_database)
    migrate(engine, "0002")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO vms (id, description, maintenance, created_at, booked_by, booked_at,"
                " expires_at, warned) VALUES "
                "('vm-a', '', false, :t, 'bob@x.org', :booked, :expires, true),"
                "('vm-b', '', false, :t, NULL, NULL, NULL, false),"
                "('vm-c', '', false, :t, 'carol@x.org', :booked, :expires, false)"
            ),
            {"t": T, "booked": T.replace(hour=13), "expires": T.replace(hour=20)},
        )
        for row in HISTORY:
            conn.execute(
                text(
                    'INSERT INTO history (id, at, action, reason, vm_id, "user", actor, start, '
                    '"end") VALUES (:i, :at, :a, :r, :v, :u, :actor, :at, :e)'
                ),
                dict(zip(["i", "at", "a", "r", "v", "u", "actor", "e"], row, strict=True)),
            )
    migrate(engine, "head")
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                'SELECT id, vm_id, owner, start, "end", state, ended_at, end_reason, warned '
                "FROM bookings ORDER BY id"
            )
        ).all()
        links = dict(conn.execute(text("SELECT id, booking_id FROM history")).all())
        columns = {c[0] for c in conn.execute(text("SELECT * FROM vms")).cursor.description}
    engine.dispose()

    def when(value):
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return None if value is None else value.replace(tzinfo=None)

    got = [(r.vm_id, r.owner, when(r.start), when(r.end), r.state, when(r.ended_at),
            r.end_reason, bool(r.warned)) for r in rows]  # fmt: skip
    assert got == [
        ("vm-a", "alice@x.org", T, T.replace(hour=12), "ended", T.replace(hour=11), "manual", True),
        ("vm-b", "bob@x.org", T, T.replace(hour=9), "ended", T.replace(hour=9), "expired", True),
        ("vm-a", "bob@x.org", T.replace(hour=13), T.replace(hour=20), "active", None, None, True),
        # Held without any record (an imported state): a booking from its booked_at.
        ("vm-c", "carol@x.org", T.replace(hour=13), T.replace(hour=20), "active", None, None,
         False),
    ]  # fmt: skip
    ids = [r.id for r in rows]
    assert links == {1: ids[0], 2: ids[0], 3: ids[0], 4: ids[2], 5: ids[1], 6: ids[1]}
    assert not {"booked_by", "booked_at", "expires_at", "warned"} & columns
