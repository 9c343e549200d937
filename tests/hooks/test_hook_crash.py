"""Hooks in a real server: live vm_updated messages, and kill -9 in the middle of a hook."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ServerProcess, api_session
from tests.hooks.conftest import alive

pytestmark = pytest.mark.server


def _hook_runs(db_url: str) -> list[tuple]:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT state, attempts, exit_code FROM hook_runs")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_browsers_see_resetting_then_free(server_factory, watcher_factory, hook):
    server = server_factory(admins="admin@example.com", hook_release=hook.path)
    url = server.url
    admin = api_session(url, "admin@example.com")
    alice = api_session(url, "alice@example.com")
    assert admin.post(f"{url}/api/vms", json={"id": "vm-live"}).status_code == 201
    assert alice.post(f"{url}/api/vms/vm-live/book", json={"hours": 1}).status_code == 200
    watcher = watcher_factory(url, alice.token)
    hook.close_gate()

    assert alice.post(f"{url}/api/vms/vm-live/release", json={}).status_code == 200
    seen = watcher.wait_for("vm_updated", lambda d: d["id"] == "vm-live")
    assert (seen["status"], seen["booked_by"]) == ("resetting", None)
    hook.open_gate()
    seen = watcher.wait_for("vm_updated", lambda d: d["id"] == "vm-live")
    assert (seen["status"], seen["maintenance_reason"]) == ("free", None)
    # The server's own settings stay out of the hook's environment.
    assert hook.lines("start")[0].endswith("|alice@example.com|manual|unset")


def test_a_hook_cut_off_by_kill_9_runs_again_at_start_up_exactly_once(
    db_url, tmp_path, hook, watcher_factory
):
    settings = {"admins": "admin@example.com", "hook_release": hook.path}
    first = ServerProcess(db_url, tmp_path / "instance", **settings).start()
    second = ServerProcess(db_url, tmp_path / "instance", **settings)
    try:
        url = first.url
        alice = api_session(url, "alice@example.com")
        admin = api_session(url, "admin@example.com")
        assert admin.post(f"{url}/api/vms", json={"id": "vm-k"}).status_code == 201
        assert alice.post(f"{url}/api/vms/vm-k/book", json={"hours": 1}).status_code == 200
        hook.close_gate()
        assert alice.post(f"{url}/api/vms/vm-k/release", json={}).status_code == 200
        (started,) = hook.wait_started(1)
        orphan = int(started.split()[1])

        first.kill()
        second.start()
        hook.wait_started(2)
        assert not alive(orphan)  # the dead instance's hook was killed, not left to finish
        watcher = watcher_factory(second.url, alice.token)
        hook.open_gate()
        seen = watcher.wait_for(
            "vm_updated", lambda d: d["id"] == "vm-k" and d["status"] != "resetting"
        )
        assert seen["status"] == "free"
        assert len(hook.lines("start")) == 2 and len(hook.lines("done")) == 1
        assert _hook_runs(db_url) == [("done", 2, 0)]
    finally:
        hook.open_gate()
        first.kill()
        second.stop()
