"""Fixtures for outage tests: services of the test's own, always stopped afterwards."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.reliability.services import OwnPostgres, OwnRedis, SmallDisk, postgres_bin


@pytest.fixture
def own_postgres():
    """A PostgreSQL cluster to stop and start; the shared one on 5432 is never touched."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    # Not under pytest's tmp folder: that one is private to root, and the cluster runs as
    # the postgres user.
    cluster = OwnPostgres(Path(tempfile.mkdtemp(prefix="loadzone-pg-")), bindir)
    try:
        yield cluster.create()
    finally:
        cluster.destroy()


@pytest.fixture
def own_redis(tmp_path):
    """A Redis to kill and restart on the same port; the shared one on 6379 is never touched."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    server = OwnRedis(tmp_path / "redis")
    try:
        yield server.start()
    finally:
        server.kill()


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MB file system that the test can fill or turn read-only."""
    disk = SmallDisk(tmp_path)
    reason = disk.available()
    if reason:
        pytest.skip(reason)
    try:
        yield disk.mount()
    finally:
        disk.unmount()
