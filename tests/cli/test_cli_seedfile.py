"""`loadzone import` / `loadzone export`: the seed's data.json, both ways, lossless."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import sign_in
from tests.unit import due

# A data.json as the original tool wrote it: timestamps with and without an offset.
SEED = {
    "vms": [
        {
            "id": "lt-01",
            "group": 1,
            "booked_by": "alice@example.com",
            "expires_at": "2031-05-01T12:00:00+03:00",
        },
        {"id": "lt-02", "group": 1, "booked_by": None, "expires_at": None},
        {
            "id": "lt-03",
            "group": None,
            "booked_by": "bob@example.com",
            "expires_at": "2031-05-01T08:30:00",
        },
        {"id": "lt-04", "group": 2, "booked_by": None, "expires_at": None},
        {"id": "db.primary_1", "group": None, "booked_by": None, "expires_at": None},
    ],
    "groups": [
        {"id": 1, "name": "Load tests", "vm_ids": ["lt-01", "lt-02"]},
        {"id": 2, "name": "Staging", "vm_ids": ["lt-04"]},
        {"id": 5, "name": "Empty", "vm_ids": []},
    ],
    "users": {
        "alice@example.com": {
            "created": "2024-01-10T09:00:00Z",
            "bookings": [
                {
                    "vm_id": "lt-02",
                    "start": "2024-01-10T09:05:00+00:00",
                    "end": "2024-01-10T11:05:00+00:00",
                    "action": "book",
                },
                {
                    "vm_id": "lt-02",
                    "start": "2024-01-10T10:00:00.250000",
                    "end": "2024-01-10T12:05:00",
                    "action": "renew",
                },
                {
                    "vm_id": "lt-02",
                    "start": "2024-01-10T13:30:00+02:00",
                    "end": None,
                    "action": "release",
                },
                {
                    "vm_id": "lt-01",
                    "start": "2031-05-01T07:00:00+03:00",
                    "end": "2031-05-01T12:00:00+03:00",
                    "action": "book",
                },
            ],
        },
        "bob@example.com": {
            "created": "2024-02-01T10:00:00",
            "bookings": [
                {
                    "vm_id": "lt-03",
                    "start": "2031-05-01T06:30:00",
                    "end": "2031-05-01T08:30:00",
                    "action": "book",
                }
            ],
        },
        "carol@example.com": {"created": "2024-03-01T00:00:00+05:30", "bookings": []},
    },
}
TIMESTAMP_KEYS = {"expires_at", "created", "start", "end"}


def as_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def canonical(data):
    """The data with every timestamp as an aware instant, lists of VMs/groups by id."""

    def walk(value, key=None):
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if key in TIMESTAMP_KEYS and isinstance(value, str):
            return as_instant(value)
        return value

    data = walk(data)
    data["vms"] = sorted(data["vms"], key=lambda vm: vm["id"])
    data["groups"] = sorted(data["groups"], key=lambda group: group["id"])
    return data


def assert_all_utc_with_offset(data):
    """Every timestamp written by export is UTC and carries its offset."""

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif key in TIMESTAMP_KEYS and value is not None:
            assert value.endswith("+00:00"), (key, value)

    walk(data)


@pytest.fixture
def seed_file(tmp_path):
    def write(data=SEED, name="data.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        return path

    return write


def test_import_then_export_gives_the_same_data(loadzone, seed_file):
    result = loadzone("import", str(seed_file()))
    assert result.code == 0, result.output
    assert "5 vms" in result.output and "3 groups" in result.output and "5 history" in result.output
    exported = json.loads(loadzone("export").output)
    assert canonical(exported) == canonical(SEED)
    assert_all_utc_with_offset(exported)
    # A timestamp without an offset was read as UTC.
    lt03 = next(vm for vm in exported["vms"] if vm["id"] == "lt-03")
    assert lt03["expires_at"] == "2031-05-01T08:30:00+00:00"


def test_export_to_a_file_and_reimport_is_byte_identical(loadzone, seed_file, tmp_path):
    loadzone("import", str(seed_file()))
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert loadzone("export", "-o", str(first)).code == 0
    assert loadzone("import", "--replace", str(first)).code == 0
    assert loadzone("export", "--output", str(second)).code == 0
    assert first.read_text() == second.read_text()
    assert json.loads(first.read_text()) == json.loads(loadzone("export").output)


def test_imported_state_is_what_the_api_serves(app, loadzone, seed_file):
    loadzone("import", str(seed_file()))
    admin = sign_in(app, "admin@example.com")
    vms = {vm["id"]: vm for vm in admin.get("/api/vms").get_json()}
    assert vms["lt-01"]["booked_by"] == "alice@example.com"
    assert as_instant(vms["lt-01"]["expires_at"]) == as_instant("2031-05-01T09:00:00Z")
    assert vms["lt-04"]["group"] == 2
    groups = {g["name"]: g for g in admin.get("/api/groups").get_json()}
    assert groups["Load tests"]["vm_ids"] == ["lt-01", "lt-02"]
    history = admin.get("/api/history?user=alice@example.com").get_json()["items"]
    assert [r["action"] for r in history] == ["book", "release", "renew", "book"]
    # Imported group ids do not collide with new ones.
    created = admin.post("/api/groups", json={"name": "New"})
    assert created.status_code == 201
    assert created.get_json()["id"] not in (1, 2, 5)
    alice = sign_in(app, "alice@example.com")
    # The imported booking is alice's: she may release it, bob may not.
    bob = sign_in(app, "bob@example.com")
    assert bob.post("/api/vms/lt-01/release", json={}).status_code == 403
    assert alice.post("/api/vms/lt-01/release", json={}).status_code == 200


def test_import_refuses_a_non_empty_database(loadzone, seed_file, make_vm):
    make_vm("existing")
    before = loadzone("export").output
    result = loadzone("import", str(seed_file()))
    assert result.code == 1
    assert "--replace" in result.output
    assert loadzone("export").output == before


def test_import_refuses_a_database_with_accounts(app, loadzone, seed_file):
    sign_in(app, "alice@example.com")
    result = loadzone("import", str(seed_file()))
    assert result.code == 1
    assert "--replace" in result.output
    assert json.loads(loadzone("export").output)["vms"] == []


def test_import_replace_overwrites_everything(loadzone, seed_file, make_vm, alice):
    make_vm("old-vm")
    alice.post("/api/vms/old-vm/book", json={"hours": 1})
    result = loadzone("import", "--replace", str(seed_file()))
    assert result.code == 0, result.output
    assert canonical(json.loads(loadzone("export").output)) == canonical(SEED)


def broken(mutate):
    data = copy.deepcopy(SEED)
    mutate(data)
    return data


MALFORMED = {
    "bad-vm-id": (broken(lambda d: d["vms"][1].update(id="-bad")), "vms[1]"),
    "duplicate-vm": (broken(lambda d: d["vms"][2].update(id="lt-01")), "vms[2]"),
    "unknown-group": (broken(lambda d: d["vms"][3].update(group=42)), "vms[3]"),
    "bad-expiry": (broken(lambda d: d["vms"][0].update(expires_at="soon")), "vms[0].expires_at"),
    "owner-without-expiry": (broken(lambda d: d["vms"][0].update(expires_at=None)), "vms[0]"),
    "unknown-vm-key": (broken(lambda d: d["vms"][4].update(colour="red")), "vms[4]"),
    "group-name-taken": (broken(lambda d: d["groups"][1].update(name="LOAD TESTS")), "groups[1]"),
    "group-bad-id": (broken(lambda d: d["groups"][2].update(id="five")), "groups[2]"),
    "bad-action": (
        broken(lambda d: d["users"]["bob@example.com"]["bookings"][0].update(action="steal")),
        "bookings[0]",
    ),
    "bad-start": (
        broken(lambda d: d["users"]["alice@example.com"]["bookings"][2].update(start="x")),
        "bookings[2].start",
    ),
    "start-out-of-range": (
        broken(
            lambda d: d["users"]["bob@example.com"]["bookings"][0].update(
                start="0001-01-01T00:00:00+14:00"
            )
        ),
        "bookings[0].start",
    ),
    "expiry-out-of-range": (
        broken(lambda d: d["vms"][0].update(expires_at="9999-12-31T23:59:59-14:00")),
        "vms[0].expires_at",
    ),
    "user-no-created": (
        broken(lambda d: d["users"]["carol@example.com"].pop("created")),
        "carol@example.com",
    ),
    "long-description": (
        broken(lambda d: d["vms"][4].update(description="d" * 501)),
        "vms[4]",
    ),
    "owner-too-long": (
        broken(lambda d: d["vms"][0].update(booked_by="a" * 250 + "@example.com")),
        "vms[0].booked_by",
    ),
    "maintenance-not-bool": (broken(lambda d: d["vms"][1].update(maintenance="no")), "vms[1]"),
    "nul-in-description": (
        broken(lambda d: d["vms"][1].update(description="a\u0000b")),
        "vms[1].description",
    ),
    "booking-without-vm": (
        broken(lambda d: d["users"]["bob@example.com"]["bookings"][0].pop("vm_id")),
        "bookings[0].vm_id",
    ),
    "same-user-twice": (
        broken(lambda d: d["users"].update({"Bob@Example.com": {"created": "2024-01-01"}})),
        "Bob@Example.com",
    ),
    "group-id-overflow": (broken(lambda d: d["groups"][2].update(id=2**31)), "groups[2]"),
    "group-name-nul": (broken(lambda d: d["groups"][2].update(name="a\u0000")), "groups[2]"),
    "group-vm-ids-string": (broken(lambda d: d["groups"][0].update(vm_ids="lt-01")), "groups[0]"),
    "vms-not-a-list": (broken(lambda d: d.update(vms={})), "vms"),
    "unknown-top-level": (broken(lambda d: d.update(extra=[])), "extra"),
    "not-an-object": ([1, 2, 3], "JSON object"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_import_names_the_entry_and_changes_nothing(loadzone, seed_file, make_vm, case):
    data, where = MALFORMED[case]
    make_vm("keep-me")
    before = loadzone("export").output
    result = loadzone("import", "--replace", str(seed_file(data)))
    assert result.code == 1
    assert where in result.output, result.output
    assert "Traceback" not in result.output
    assert loadzone("export").output == before


def test_import_of_a_file_that_is_not_json(loadzone, tmp_path):
    path = tmp_path / "data.json"
    path.write_text("{vms: [", encoding="utf-8")
    result = loadzone("import", str(path))
    assert result.code == 1
    assert "not valid JSON" in result.output
    assert json.loads(loadzone("export").output) == {"vms": [], "groups": [], "users": {}}


def test_import_of_a_missing_file(loadzone, tmp_path):
    result = loadzone("import", str(tmp_path / "nope.json"))
    assert result.code == 2
    assert "nope.json" in result.output


def test_the_installed_command_exports_to_a_file(db_url, tmp_path, loadzone, seed_file):
    """The real `loadzone` entry point, as an operator runs it."""
    loadzone("import", str(seed_file()))
    env = {
        **os.environ,
        "LOADZONE_DATABASE_URL": db_url,
        "LOADZONE_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    target = tmp_path / "out.json"
    command = [str(Path(sys.executable).with_name("loadzone")), "export", "-o", str(target)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert json.loads(target.read_text()) == json.loads(loadzone("export").output)
    assert canonical(json.loads(target.read_text())) == canonical(SEED)


def test_live_state_round_trips_with_reasons_and_actors(
    app, admin, alice, make_vm, loadzone, tmp_path
):
    """Admin actions, auto-release, maintenance and descriptions survive export + import."""
    from datetime import timedelta

    from loadzone.core import storage

    group = admin.post("/api/groups", json={"name": "Perf"}).get_json()
    make_vm("vm-1", group=group["id"], description="big box")
    make_vm("vm-2")
    make_vm("vm-3")
    admin.patch("/api/vms/vm-3", json={"maintenance": True})
    alice.post("/api/vms/vm-1/book", json={"hours": 2})
    admin.post("/api/vms/vm-1/renew", json={"hours": 1})
    admin.post("/api/vms/vm-1/release", json={})
    booked = alice.post("/api/vms/vm-2/book", json={"hours": 1}).get_json()
    alice.post("/api/vms/vm-1/book", json={"hours": 3})
    # Last, as its instant (just after vm-2's expiry) lies after everything else.
    with app.app_context(), storage.transaction():
        expiry = datetime.fromisoformat(booked["expires_at"])
        assert due.release_due("vm-2", expiry + timedelta(seconds=1))

    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert loadzone("export", "-o", str(first)).code == 0
    data = json.loads(first.read_text())
    records = data["users"]["alice@example.com"]["bookings"]
    assert [(r["action"], r.get("reason"), r.get("actor")) for r in records] == [
        ("book", None, None),
        ("renew", None, "admin@example.com"),
        ("release", "admin", "admin@example.com"),
        ("book", None, None),
        ("book", None, None),
        ("release", "expired", None),
    ]
    assert "actor" in records[5] and records[5]["actor"] is None
    assert loadzone("import", "--replace", str(first)).code == 0
    assert loadzone("export", "-o", str(second)).code == 0
    assert first.read_text() == second.read_text()
    vm3 = next(vm for vm in json.loads(second.read_text())["vms"] if vm["id"] == "vm-3")
    assert vm3["maintenance"] is True


def test_reservations_and_their_records_round_trip(
    app, admin, alice, bob, make_vm, loadzone, tmp_path
):
    """Reservations and reserve/cancel records travel under added keys; import rebuilds the
    booking rows, so usage and the calendar see the imported past."""
    from tests.conftest import utc

    def iso(moment):
        return moment.replace(microsecond=0).isoformat()

    group = admin.post("/api/groups", json={"name": "Short"}).get_json()
    admin.patch(f"/api/groups/{group['id']}", json={"max_hours": 5})
    make_vm("vm-1", group=group["id"])
    make_vm("vm-2")
    assert alice.post("/api/vms/vm-1/book", json={"hours": 2}).status_code == 200
    kept = {"vm_id": "vm-1", "hours": 3, "start": iso(utc(days=1))}
    assert bob.post("/api/bookings", json=kept).status_code == 201
    dropped = {"vm_id": "vm-2", "hours": 1, "start": iso(utc(days=2))}
    withdrawn = bob.post("/api/bookings", json=dropped).get_json()["bookings"][0]
    bob.delete(f"/api/bookings/{withdrawn['id']}", content_type="application/json")

    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert loadzone("export", "-o", str(first)).code == 0
    data = json.loads(first.read_text())
    assert [(r["vm_id"], r["owner"]) for r in data["reservations"]] == [("vm-1", "bob@example.com")]
    assert [(r["action"], r["vm_id"]) for r in data["audit"]] == [
        ("reserve", "vm-1"),
        ("reserve", "vm-2"),
        ("cancel", "vm-2"),
    ]
    assert next(g for g in data["groups"] if g["id"] == group["id"])["max_hours"] == 5
    # The seed's per-user records keep only book, renew and release.
    assert {r["action"] for u in data["users"].values() for r in u["bookings"]} == {"book"}

    assert loadzone("import", "--replace", str(first)).code == 0
    assert loadzone("export", "-o", str(second)).code == 0
    assert first.read_text() == second.read_text()
    states = [(b["vm_id"], b["state"]) for b in alice.get("/api/bookings").get_json()["items"]]
    assert states == [("vm-1", "active"), ("vm-1", "reserved")]
    usage = {v["vm_id"]: v for v in alice.get("/api/usage?days=7").get_json()["vms"]}
    assert usage["vm-1"]["bookings"] == 1


def test_an_overlapping_reservation_in_a_file_is_refused(loadzone, seed_file):
    data = copy.deepcopy(SEED)
    data["reservations"] = [
        {"vm_id": "lt-02", "owner": "a@x.org", "start": "2031-01-01T00:00:00Z",
         "end": "2031-01-01T05:00:00Z"},
        {"vm_id": "lt-02", "owner": "b@x.org", "start": "2031-01-01T04:00:00Z",
         "end": "2031-01-01T06:00:00Z"},
    ]  # fmt: skip
    result = loadzone("import", str(seed_file(data)))
    assert result.code != 0 and "overlap" in result.output
    assert json.loads(loadzone("export").output)["vms"] == []


def test_labels_addresses_and_waiting_requests_round_trip(
    app, admin, alice, bob, make_vm, loadzone, tmp_path
):
    make_vm("vm-1", labels={"cpu": "16"}, address="10.0.0.1:22")
    assert alice.post("/api/vms/vm-1/book", json={"hours": 2}).status_code == 200
    waiting = bob.post("/api/bookings", json={"vm_id": "vm-1", "hours": 1, "wait": True})
    assert waiting.status_code == 202
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert loadzone("export", "-o", str(first)).code == 0
    data = json.loads(first.read_text())
    [vm] = data["vms"]
    assert (vm["labels"], vm["address"]) == ({"cpu": "16"}, "10.0.0.1:22")
    [request] = data["queue"]
    assert (request["owner"], request["vm_id"], request["hours"]) == ("bob@example.com", "vm-1", 1)
    assert loadzone("import", "--replace", str(first)).code == 0
    assert loadzone("export", "-o", str(second)).code == 0
    assert first.read_text() == second.read_text()
    shown = alice.get("/api/queue").get_json()
    assert [(r["owner"], r["position"]) for r in shown] == [("bob@example.com", 1)]
