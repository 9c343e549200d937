"""SQLite writers of every process on one file take turns on an flock beside it (the
`-writer.lock` file), so a write waits for another process's write instead of polling."""

from __future__ import annotations

import fcntl
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@contextmanager
def another_writer(db_url: str):
    """Hold the writer lock as another process's writer would; yields its release."""
    # A descriptor of our own: to the kernel it is another writer, like another worker's.
    handle = os.open(db_url.removeprefix("sqlite:///") + "-writer.lock", os.O_RDWR)
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield lambda: fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)


def test_a_write_waits_for_another_process_writer_and_goes_on_when_it_ends(db_url, alice, make_vm):
    make_vm("vm-1")
    # The lock goes before the pool waits for its thread, whatever happens in between.
    with ThreadPoolExecutor(1) as pool, another_writer(db_url) as release:
        pending = pool.submit(alice.post, "/api/vms/vm-1/book", json={"hours": 1})
        with pytest.raises(TimeoutError):
            pending.result(timeout=0.5)
        release()
        answer = pending.result(timeout=10)
    assert answer.status_code == 200, answer.get_json()
    assert alice.get("/api/vms/vm-1").get_json()["booked_by"] == "alice@example.com"


def test_reads_do_not_wait_for_a_writer(db_url, alice, make_vm):
    make_vm("vm-1")
    with ThreadPoolExecutor(1) as pool, another_writer(db_url):
        answer = pool.submit(alice.get, "/api/vms").result(timeout=10)
    assert answer.status_code == 200
    assert [vm["id"] for vm in answer.get_json()] == ["vm-1"]
