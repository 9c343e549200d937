"""Fresh, migrated databases and bulk data written straight into them (no HTTP)."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine

from loadzone import create_app
from loadzone.config import database_url, load_settings
from loadzone.extensions import db
from loadzone.models import Vm

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/lz_bench"
BATCH = 50_000
HISTORY_COLUMNS = ("at", "action", "reason", "vm_id", "user", "actor", "start", "end")


def pg_url() -> str:
    """The one PostgreSQL database the benchmarks may use (LOADZONE_BENCH_DATABASE_URL)."""
    raw = os.environ.get("LOADZONE_BENCH_DATABASE_URL") or PG_DEFAULT
    return database_url(raw, Path("."))


def pg_available(url: str) -> str | None:
    """None when the database answers, else why not."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any driver or network error means: skip PostgreSQL
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


def utcnow() -> datetime:
    return datetime.now(UTC)


def naive(moment: datetime) -> datetime:
    """The storage form: naive UTC (what UtcDateTime writes)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def fresh_database(backend: str, folder: Path) -> str:
    """An empty database at the newest migration: a new SQLite file, or PostgreSQL's public
    schema dropped and recreated in the benchmark database only."""
    folder.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        path = folder / "loadzone.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        url = pg_url()
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate(url, folder)
    return url


def migrate(url: str, folder: Path) -> None:
    """Build the app once on `url`: create_app runs the Alembic migrations."""
    settings = load_settings(
        folder / "instance", database_url=url, rate_limit=False, auth_mode="open"
    )
    app = create_app(settings)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def engine(url: str) -> Engine:
    return create_engine(url)


@dataclass
class VmSet:
    ids: list[str]
    expired: int
    warn_due: int
    booked: int


def vm_rows(count: int, *, expired=0, warn_due=0, booked=0, prefix="vm-", now=None) -> list[dict]:
    """VM rows: first `expired` past their expiry, then `warn_due` inside the default 60-minute
    warning lead, then `booked` ending 2-24 h ahead, the rest free."""
    now = now or utcnow()
    rng = random.Random(count)
    rows = []
    for index in range(count):
        row = {
            "id": f"{prefix}{index:06d}",
            "group_id": None,
            "description": f"load generator {index}",
            "maintenance": False,
            "created_at": now - timedelta(days=30),
            "booked_by": None,
            "booked_at": None,
            "expires_at": None,
            "warned": False,
        }
        if index < expired:
            ahead = -timedelta(minutes=rng.uniform(1, 60))
        elif index < expired + warn_due:
            ahead = timedelta(minutes=rng.uniform(5, 50))
        elif index < expired + warn_due + booked:
            ahead = timedelta(hours=rng.uniform(2, 24))
        else:
            ahead = None
        if ahead is not None:
            row["booked_by"] = f"user-{index % 200:03d}@example.com"
            row["booked_at"] = now + ahead - timedelta(hours=24)
            row["expires_at"] = now + ahead
        rows.append(row)
    return rows


def insert_vms(url: str, count: int, **kinds) -> VmSet:
    """Insert `count` VMs with SQLAlchemy Core executemany (see vm_rows for `kinds`)."""
    rows = vm_rows(count, **kinds)
    eng = engine(url)
    with eng.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(Vm.__table__), rows[start : start + 10_000])
    eng.dispose()
    return VmSet(
        [r["id"] for r in rows],
        kinds.get("expired", 0),
        kinds.get("warn_due", 0),
        kinds.get("booked", 0),
    )


@dataclass
class HistorySet:
    count: int
    first_at: datetime
    last_at: datetime
    users: list[str]


def history_rows(count: int, vm_ids: list[str], users: list[str], first_at: datetime, step):
    """Audit rows, oldest first, one every `step`: about 45% book, 15% renew, 40% release."""
    rng = random.Random(1)
    base = naive(first_at)
    for index in range(count):
        at = base + step * index
        user = users[rng.randrange(len(users))]
        roll = rng.random()
        if roll < 0.45:
            action, reason, actor, end = "book", None, user, at + timedelta(hours=2)
        elif roll < 0.60:
            action, reason, actor, end = "renew", None, user, at + timedelta(hours=3)
        else:
            reason = ("manual", "manual", "expired", "admin")[rng.randrange(4)]
            actor = {"manual": user, "expired": None, "admin": "admin@example.com"}[reason]
            action, end = "release", None
        yield (at, action, reason, vm_ids[rng.randrange(len(vm_ids))], user, actor, at, end)


def insert_history(url: str, count: int, vm_ids: list[str], users: list[str]) -> HistorySet:
    """Bulk-load `count` audit records spread over the past year (SQLite: executemany in
    batches inside one transaction; PostgreSQL: COPY), then refresh planner statistics
    on PostgreSQL as autovacuum would."""
    last_at = utcnow() - timedelta(minutes=1)
    first_at = last_at - timedelta(days=365)
    step = (last_at - first_at) / max(count, 1)
    rows = history_rows(count, vm_ids, users, first_at, step)
    eng = engine(url)
    if eng.dialect.name == "sqlite":
        _sqlite_history(eng, rows)
    else:
        _postgres_history(eng, rows)
    eng.dispose()
    return HistorySet(count, first_at, last_at, users)


def _sqlite_history(eng: Engine, rows) -> None:
    columns = ", ".join(f'"{c}"' for c in HISTORY_COLUMNS)
    sql = f"INSERT INTO history ({columns}) VALUES ({', '.join('?' * len(HISTORY_COLUMNS))})"

    def stored(row):
        # The text form SQLAlchemy's SQLite DateTime writes and compares.
        return tuple(
            v.isoformat(sep=" ", timespec="microseconds") if isinstance(v, datetime) else v
            for v in row
        )

    with eng.begin() as conn:
        batch = []
        for row in rows:
            batch.append(stored(row))
            if len(batch) == BATCH:
                conn.exec_driver_sql(sql, batch)
                batch = []
        if batch:
            conn.exec_driver_sql(sql, batch)


def _postgres_history(eng: Engine, rows) -> None:
    columns = ", ".join(f'"{c}"' for c in HISTORY_COLUMNS)
    raw = eng.raw_connection()
    try:
        connection = raw.driver_connection
        cursor = connection.cursor()
        with cursor, cursor.copy(f"COPY history ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE history")
        connection.autocommit = False
    finally:
        raw.close()


def analyze(url: str) -> None:
    """Planner statistics for PostgreSQL tables loaded in bulk (autovacuum would do it)."""
    eng = engine(url)
    if eng.dialect.name == "postgresql":
        with eng.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    eng.dispose()
