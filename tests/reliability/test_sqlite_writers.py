"""SQLite writers of every process on one file take turns on an flock beside it (the
`-writer.lock` file), so a write waits for another process's write instead of polling."""

from __future__ import annotations

import fcntl
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def test_a_write_waits_for_another_process_writer_and_goes_on_when_it_ends(db_url, alice, make_vm):
    make_vm("vm-1")
    # A descriptor of our own: to the kernel it is another writer, like another worker's.
    handle = os.open(db_url.removeprefix("sqlite:///") + "-writer.lock", os.O_RDWR)
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(alice.post, "/api/vms/vm-1/book", json={"hours": 1})
            with pytest.raises(TimeoutError):
                pending.result(timeout=0.5)
            fcntl.flock(handle, fcntl.LOCK_UN)
            answer = pending.result(timeout=10)
    finally:
        os.close(handle)
    assert answer.status_code == 200, answer.get_json()
    assert alice.get("/api/vms/vm-1").get_json()["booked_by"] == "alice@example.com"


def test_reads_do_not_wait_for_a_writer(db_url, alice, make_vm):
    make_vm("vm-1")
    handle = os.open(db_url.removeprefix("sqlite:///") + "-writer.lock", os.O_RDWR)
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(alice.get, "/api/vms").result(timeout=10)
    finally:
        os.close(handle)
    assert answer.status_code == 200
    assert [vm["id"] for vm in answer.get_json()] == ["vm-1"]
