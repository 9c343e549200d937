"""Backups: a consistent copy of a live SQLite database, or pg_dump for PostgreSQL; restore."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from loadzone.errors import Conflict, Invalid, Unavailable

# SQLite keeps a shared lock on this byte of the -shm file for as long as a connection is
# open in WAL mode (the "DMS" lock of os_unix.c): if we can lock it, nobody has it open.
_SHM_DMS_BYTE = 128
_LOADZONE_TABLES = {"alembic_version", "vms", "history", "users"}


def sqlite_path(url: str) -> Path | None:
    """The database file of an SQLite URL, None for any other engine."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def _check(path: Path) -> None:
    """Refuse a file that is not a sound LoadZone database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise Invalid(f"{path} is not an SQLite database: {exc}") from exc
    if verdict != "ok":
        raise Invalid(f"{path} is damaged: integrity_check says {verdict}")
    if not _LOADZONE_TABLES.issubset(tables):
        raise Invalid(f"{path} is not a LoadZone database.")


def _copy(source: Path, target: Path) -> int:
    """SQLite's online backup of `source` into a new `target`, atomically; returns its pages."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        # One step: the whole copy is read inside one read transaction, a single snapshot,
        # while writers go on (WAL).
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
    finally:
        dst.close()
        src.close()
    _check(partial)
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    return pages


def backup_sqlite(url: str, target: Path) -> str:
    """Copy the live database to `target`; safe while servers run."""
    source = sqlite_path(url)
    if not source.exists():
        raise Invalid(f"There is no database at {source}.")
    pages = _copy(source, target)
    return f"backed up {source} to {target} ({pages} pages, integrity ok)"


def backup_postgresql(url: str, target: Path) -> str:
    """pg_dump in its custom format (restore with pg_restore)."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise Unavailable(
            "pg_dump is not installed here. Install the PostgreSQL client tools, or run "
            f"pg_dump --format=custom --file={target} on a machine that has them."
        )
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    done = subprocess.run(
        [pg_dump, "--format=custom", f"--file={target}", f"--dbname={plain}"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise Unavailable(f"pg_dump failed: {done.stderr.strip()}")
    return f"dumped the database to {target} (restore with pg_restore --clean)"


def backup(url: str, target: Path) -> str:
    """Back up the configured database to `target`; returns what was done."""
    if sqlite_path(url) is not None:
        return backup_sqlite(url, target)
    if make_url(url).get_backend_name() == "postgresql":
        return backup_postgresql(url, target)
    raise Invalid(f"Backups of {make_url(url).get_backend_name()} are not supported.")


def in_use(path: Path) -> bool:
    """Whether some process has the SQLite database open (call with no connection open here)."""
    shm = path.with_name(path.name + "-shm")
    try:
        fd = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS_BYTE)
        return False
    finally:
        os.close(fd)


def restore_sqlite(url: str, source: Path) -> str:
    """Replace the database with a backup; the current one is kept beside it first."""
    target = sqlite_path(url)
    if target is None:
        raise Invalid(
            "Restore works on SQLite only; for PostgreSQL use pg_restore --clean with the dump."
        )
    _check(source)
    if in_use(target):
        raise Conflict(f"{target} is open in a running LoadZone server: stop every server first.")
    kept = None
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = target.with_name(f"{target.name}.before-restore-{stamp}")
        _copy(target, kept)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    _check(target)
    note = f"; the previous database is kept as {kept}" if kept else ""
    return f"restored {target} from {source}{note}"
