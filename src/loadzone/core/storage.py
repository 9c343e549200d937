"""Engine set-up, transactions and migrations."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from loadzone.core import events
from loadzone.extensions import db

MIGRATIONS = Path(__file__).parent.parent / "migrations"
_IMMEDIATE = "loadzone_immediate"
# Any fixed number: the advisory lock that keeps two instances from migrating at once.
_MIGRATION_LOCK = 7402301
# Storage problems a failed write can reveal; /healthz reports one for this long.
FULL, UNWRITABLE = "storage_full", "storage_unwritable"
_PROBLEM = "loadzone.storage_problem"
PROBLEM_SECONDS = 30


def engine_options(url: str) -> dict:
    """Pool and driver options for the configured engine."""
    if url.startswith("sqlite"):
        return {
            "connect_args": {"check_same_thread": False, "timeout": 30},
            "pool_size": 32,
            "max_overflow": 64,
        }
    # As many pooled connections as requests run at once (more were opened and closed per
    # request); a ping only before using one that sat idle (see _ping_if_idle).
    return {"pool_size": 32, "max_overflow": 8, "pool_recycle": 1800}


def _sqlite_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN itself, so writers can ask for IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # A writer takes the write lock up front; a deferred upgrade could fail with SQLITE_BUSY.
    immediate = conn.get_execution_options().get(_IMMEDIATE)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# A pooled connection idle this long is pinged before use: after a database restart its
# first statement would fail. Under load connections come back within milliseconds, and
# pinging each one (pool_pre_ping) cost the listing 15% of its throughput on PostgreSQL.
PING_IDLE_SECONDS = 1.0


def _checked_in(_dbapi_connection, record) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy, *, dialect) -> None:
    if time.monotonic() - record.info.get("checked_in", 0.0) <= PING_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as error:  # the pool drops this connection and hands out a new one
        raise DisconnectionError("pooled connection is gone") from error


def configure_engine(engine: Engine) -> None:
    """Attach per-dialect hooks to a freshly created engine."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_connect):
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    if engine.dialect.name == "postgresql" and not event.contains(engine, "checkin", _checked_in):
        event.listen(engine, "checkin", _checked_in)
        event.listen(engine, "checkout", partial(_ping_if_idle, dialect=engine.dialect))


def storage_problem(error: BaseException) -> str | None:
    """What a driver error says about the disk: FULL, UNWRITABLE, or None for anything else."""
    orig = getattr(error, "orig", error)
    name = getattr(orig, "sqlite_errorname", None) or ""
    state = getattr(orig, "sqlstate", None) or ""
    if name == "SQLITE_FULL" or state == "53100":  # 53100: disk_full
        return FULL
    # 25006: read_only_sql_transaction, 58030: io_error
    if name.startswith(("SQLITE_READONLY", "SQLITE_IOERR")) or state in ("25006", "58030"):
        return UNWRITABLE
    return None


def _note(error: BaseException | None) -> None:
    """Remember a write that failed on storage (for /healthz); a commit clears it."""
    problem = None if error is None else storage_problem(error)
    if problem:
        current_app.extensions[_PROBLEM] = (problem, time.monotonic())
    elif error is None:
        current_app.extensions.pop(_PROBLEM, None)


@contextmanager
def transaction() -> Iterator:
    """One use case, one commit: write lock taken at the start, rollback on any error."""
    session = db.session()
    if session.in_transaction():
        # Only reads (who is asking) can have happened before a use case starts.
        session.commit()
    with _writers_queue(session):
        try:
            session.connection(execution_options={_IMMEDIATE: True})
            yield session
            events.prepare(session)
            session.commit()
        except BaseException as error:
            session.rollback()
            _note(error)
            raise
    _note(None)


# SQLite has one write lock, and a writer that finds it taken polls with sleeps of up to
# 100 ms (the busy handler), so with many writers the lock sat idle between holders:
# 16 clients booked no faster than 1 and waited up to 2 s (docs/performance.md). Writers
# of this process wait here instead and are woken the moment the previous one commits;
# writers of other processes on the same file (LOADZONE_WORKERS, the CLI) wait on an flock
# beside it, which the kernel hands over just as promptly.
_SQLITE_WRITER = threading.RLock()
_held = threading.local()
_lock_files: dict[tuple[int, str], int] = {}


def _lock_file(database: str | None) -> int | None:
    """An open descriptor of `<database>-writer.lock`; None for in-memory databases."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    # Per process: a descriptor inherited through fork shares its lock with the parent.
    key = (os.getpid(), database)
    if key not in _lock_files:
        _lock_files[key] = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    return _lock_files[key]


@contextmanager
def _writers_queue(session) -> Iterator:
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    with _SQLITE_WRITER:
        outermost = not getattr(_held, "depth", 0)
        fd = _lock_file(bind.url.database) if outermost else None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        _held.depth = getattr(_held, "depth", 0) + 1
        try:
            yield
        finally:
            _held.depth -= 1
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(app: Flask) -> None:
    """Bring the schema to the newest migration; instances take turns on PostgreSQL."""
    with app.app_context(), db.engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
            connection.commit()
        try:
            command.upgrade(alembic_config(connection), "head")
            connection.commit()
        finally:
            if postgres:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                connection.commit()


def ping() -> None:
    """Raise if the database does not answer."""
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def health() -> str | None:
    """Raise if the database does not answer; name the storage problem writes met lately."""
    ping()
    noted = current_app.extensions.get(_PROBLEM)
    if noted and time.monotonic() - noted[1] < PROBLEM_SECONDS:
        return noted[0]
    return None
