"""`loadzone vm …`, `loadzone group …` and `loadzone db upgrade`."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, inspect, text


def test_vm_add_list_remove(loadzone):
    assert loadzone("group", "add", "Perf").output.strip() == "created group 1: Perf"
    result = loadzone("vm", "add", "lt-01", "--group", "1", "--description", "fast box")
    assert (result.code, result.output.strip()) == (0, "added lt-01")
    assert loadzone("vm", "add", "lt-02").code == 0
    lines = loadzone("vm", "list").output.splitlines()
    assert lines == ["lt-01\tgroup=1\tfree", "lt-02\tgroup=-\tfree"]
    assert loadzone("group", "list").output.splitlines() == ["1\tPerf\tlt-01"]

    result = loadzone("vm", "remove", "lt-01")
    assert (result.code, result.output.strip()) == (0, "removed lt-01")
    assert loadzone("vm", "list").output.splitlines() == ["lt-02\tgroup=-\tfree"]
    assert loadzone("group", "list").output.splitlines() == ["1\tPerf\t"]
    exported = json.loads(loadzone("export").output)
    assert [vm["id"] for vm in exported["vms"]] == ["lt-02"]


def test_vm_add_refusals(loadzone):
    loadzone("vm", "add", "lt-01")
    duplicate = loadzone("vm", "add", "lt-01")
    assert duplicate.code == 1
    assert "already exists" in duplicate.output
    bad = loadzone("vm", "add", "-oops")
    assert bad.code != 0
    bad = loadzone("vm", "add", "--", "-oops")
    assert bad.code == 1
    assert "VM id" in bad.output
    no_group = loadzone("vm", "add", "lt-02", "--group", "7")
    assert no_group.code == 1
    assert "no group 7" in no_group.output
    assert loadzone("vm", "add", "lt-03", "--group", str(10**20)).code == 1
    assert loadzone("vm", "list").output.splitlines() == ["lt-01\tgroup=-\tfree"]


def test_vm_remove_unknown(loadzone):
    result = loadzone("vm", "remove", "ghost")
    assert result.code == 1
    assert "ghost" in result.output


def test_vm_list_shows_owner_and_expiry(alice, make_vm, loadzone):
    make_vm("lt-01")
    make_vm("lt-02")
    booked = alice.post("/api/vms/lt-01/book", json={"hours": 2}).get_json()
    lines = loadzone("vm", "list").output.splitlines()
    assert lines[0].startswith("lt-01\tgroup=-\talice@example.com until ")
    assert booked["expires_at"] in lines[0]
    assert lines[1] == "lt-02\tgroup=-\tfree"


def test_remove_booked_vm_needs_force_and_records_a_release(alice, make_vm, loadzone, admin):
    make_vm("lt-01")
    alice.post("/api/vms/lt-01/book", json={"hours": 2})
    refused = loadzone("vm", "remove", "lt-01")
    assert refused.code == 1
    assert "release it first" in refused.output
    assert alice.get("/api/vms/lt-01").get_json()["booked_by"] == "alice@example.com"

    assert loadzone("vm", "remove", "lt-01", "--force").code == 0
    assert alice.get("/api/vms/lt-01").status_code == 404
    record = admin.get("/api/history?vm_id=lt-01&limit=1").get_json()["items"][0]
    assert (record["action"], record["reason"], record["user"]) == (
        "release",
        "admin",
        "alice@example.com",
    )
    assert record["actor"] == "console@localhost"


def test_group_add_refuses_taken_and_bad_names(loadzone):
    assert loadzone("group", "add", "Perf").code == 0
    taken = loadzone("group", "add", "PERF")
    assert taken.code == 1
    assert "already exists" in taken.output
    assert loadzone("group", "add", "x" * 101).code == 1
    assert loadzone("group", "add", "   ").code == 1
    assert loadzone("group", "add", "Staging").code == 0
    names = [line.split("\t")[1] for line in loadzone("group", "list").output.splitlines()]
    assert names == ["Perf", "Staging"]


def test_db_upgrade_creates_the_schema_on_a_new_database(loadzone, tmp_path, monkeypatch):
    fresh = tmp_path / "fresh.db"
    monkeypatch.setenv("LOADZONE_DATABASE_URL", f"sqlite:///{fresh}")
    result = loadzone("db", "upgrade")
    assert (result.code, result.output.strip()) == (0, "database is up to date")
    engine = create_engine(f"sqlite:///{fresh}")
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    assert {"vms", "groups", "users", "history", "notifications", "api_tokens"} <= tables
    assert version
    # Running it again is a no-op.
    assert loadzone("db", "upgrade").code == 0


def test_db_upgrade_on_the_current_database(loadzone):
    loadzone("vm", "add", "lt-01")
    assert loadzone("db", "upgrade").code == 0
    assert loadzone("vm", "list").output.splitlines() == ["lt-01\tgroup=-\tfree"]


def test_vm_add_with_labels_and_address(loadzone):
    result = loadzone(
        "vm", "add", "lt-09", "--label", "cpu=16", "--label", "zone=a", "--address", "10.1.2.3:2222"
    )
    assert (result.code, result.output.strip()) == (0, "added lt-09")
    assert loadzone("vm", "list").output.splitlines() == [
        "lt-09\tgroup=-\tfree\taddress=10.1.2.3:2222\tlabels=cpu=16,zone=a"
    ]
    for bad in (["--label", "CPU=1"], ["--label", "cpu"], ["--address", "ssh://x"]):
        refused = loadzone("vm", "add", "lt-10", *bad)
        assert refused.code == 1, bad
    assert [line.split("\t")[0] for line in loadzone("vm", "list").output.splitlines()] == ["lt-09"]
