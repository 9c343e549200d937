"""Strict input: every malformed request is a 4xx in the one error shape and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.api.conftest import error_of, snapshot

JSON = "application/json"
LONG = "x" * 101
BOOK = "/api/vms/vm-free/book"
RENEW = "/api/vms/vm-booked/renew"
VMS = "/api/vms"
GROUPS = "/api/groups"
READ = "/api/notifications/read"


@dataclass
class Bad:
    """One request that must be refused with `status` (and `code`) by `who`."""

    name: str
    who: str
    method: str
    path: str
    status: int
    code: str | None = None
    request: dict = field(default_factory=dict)

    def send(self, client):
        return getattr(client, self.method)(self.path, **self.request)


def post(name, who, path, payload, status=400, code=None):
    return Bad(name, who, "post", path, status, code, {"json": payload})


def patch(name, path, payload, status=400, code=None):
    return Bad(name, "admin", "patch", path, status, code, {"json": payload})


def raw(name, who, path, data, status=400, code=None, content_type=JSON):
    return Bad(name, who, "post", path, status, code, {"data": data, "content_type": content_type})


def get(name, path, code=None):
    return Bad(name, "alice", "get", path, 400, code)


CASES = {
    "hours": [
        post("1.5", "alice", BOOK, {"hours": 1.5}),
        post('"2"', "alice", BOOK, {"hours": "2"}),
        post("true", "alice", BOOK, {"hours": True}),
        post("0", "alice", BOOK, {"hours": 0}, code="invalid_hours"),
        post("25", "alice", BOOK, {"hours": 25}, code="invalid_hours"),
        post("-1", "alice", BOOK, {"hours": -1}),
        post("null", "alice", BOOK, {"hours": None}),
        post("10**30", "alice", BOOK, {"hours": 10**30}),
        post("missing", "alice", BOOK, {}),
        raw("no body", "alice", BOOK, ""),
        post("renew 1.5", "alice", RENEW, {"hours": 1.5}),
        post("renew 25", "alice", RENEW, {"hours": 25}),
        post("renew past cap", "alice", RENEW, {"hours": 23}, code="renew_too_long"),
    ],
    "unknown fields": [
        post("book", "alice", BOOK, {"hours": 1, "x": 1}),
        post("renew", "alice", RENEW, {"hours": 1, "x": 1}),
        post("vm", "admin", VMS, {"id": "vm-new", "color": "red"}),
        patch("vm patch", "/api/vms/vm-free", {"booked_by": "me"}),
        post("group", "admin", GROUPS, {"name": "G", "x": 1}),
        patch("group patch", "/api/groups/1", {"id": 5}),
        post("token", "alice", "/api/me/tokens", {"name": "t", "ttl": 5}),
        post("read", "alice", READ, {"x": 1}),
        post("login", "alice", "/api/auth/login", {"email": "a@example.com", "pw": "x"}),
    ],
    "vm ids": [
        post("empty", "admin", VMS, {"id": ""}),
        post("blank", "admin", VMS, {"id": "   "}),
        post("65 chars", "admin", VMS, {"id": "a" * 65}),
        post("leading dash", "admin", VMS, {"id": "-vm"}),
        post("leading dot", "admin", VMS, {"id": ".vm"}),
        post("accent", "admin", VMS, {"id": "vm\u00e9"}),
        post("cyrillic", "admin", VMS, {"id": "\u0432\u043c-1"}),
        post("space", "admin", VMS, {"id": "vm 1"}),
        post("null", "admin", VMS, {"id": None}),
        post("number", "admin", VMS, {"id": 5}),
        post("missing", "admin", VMS, {"description": "x"}),
    ],
    "vm fields": [
        post("description 501", "admin", VMS, {"id": "vm-new", "description": "d" * 501}),
        post("group as string", "admin", VMS, {"id": "vm-new", "group": "1"}),
        patch("maintenance string", "/api/vms/vm-free", {"maintenance": "yes"}),
        patch("maintenance int", "/api/vms/vm-free", {"maintenance": 1}),
        patch("group float", "/api/vms/vm-free", {"group": 1.5}),
        patch("description 501", "/api/vms/vm-free", {"description": "d" * 501}),
        patch("expiry garbage", "/api/vms/vm-booked", {"expires_at": "tomorrow"}),
        patch("expiry number", "/api/vms/vm-booked", {"expires_at": 1700000000}),
        patch("expiry null", "/api/vms/vm-booked", {"expires_at": None}),
        patch(
            "expiry past",
            "/api/vms/vm-booked",
            {"expires_at": "2001-01-01T00:00:00Z"},
            code="invalid_expires_at",
        ),
        patch("expiry overflow", "/api/vms/vm-booked", {"expires_at": "9999-12-31T23:59:59-14:00"}),
    ],
    "groups": [
        post("name empty", "admin", GROUPS, {"name": ""}),
        post("name blank", "admin", GROUPS, {"name": "   "}),
        post("name 101", "admin", GROUPS, {"name": LONG}),
        post("name 101 padded", "admin", GROUPS, {"name": " " + LONG + " "}),
        post("name null", "admin", GROUPS, {"name": None}),
        post("name number", "admin", GROUPS, {"name": 7}),
        patch("rename empty", "/api/groups/1", {"name": ""}),
        patch("rename 101", "/api/groups/1", {"name": LONG}),
        post("bad vm id", "admin", GROUPS, {"name": "G", "vm_ids": ["-x"]}),
        post("vm_ids not a list", "admin", GROUPS, {"name": "G", "vm_ids": "vm-free"}),
    ],
    "tokens, notifications, sign-in": [
        post("token name blank", "alice", "/api/me/tokens", {"name": " "}),
        post("token name 101", "alice", "/api/me/tokens", {"name": LONG}),
        post("read both", "alice", READ, {"ids": [1], "all": True}),
        post("read neither", "alice", READ, {}),
        post("read all false", "alice", READ, {"all": False}),
        post("read ids strings", "alice", READ, {"ids": ["1"]}),
        post("read id zero", "alice", READ, {"ids": [0]}),
        post("read id huge", "alice", READ, {"ids": [10**30]}),
        post("login bad email", "alice", "/api/auth/login", {"email": "nobody"}),
        post("login no email", "alice", "/api/auth/login", {}),
    ],
    "bodies": [
        post("array", "alice", BOOK, [{"hours": 1}]),
        post("string", "alice", BOOK, "hours"),
        raw("number", "alice", BOOK, "5"),
        raw("null", "alice", BOOK, "null"),
        raw("malformed", "alice", BOOK, '{"hours": 1', code="invalid_json"),
        raw("single quotes", "alice", BOOK, "{'hours': 1}", code="invalid_json"),
        raw("trailing comma", "alice", BOOK, '{"hours": 1,}', code="invalid_json"),
        raw("invalid utf-8", "admin", GROUPS, b'{"name": "\xff\xfe"}', code="invalid_json"),
        raw("NUL in a string", "admin", GROUPS, '{"name": "a\\u0000b"}'),
        raw("lone surrogate", "admin", GROUPS, '{"name": "a\\ud800"}'),
        raw("surrogate in token name", "alice", "/api/me/tokens", '{"name": "\\udfff"}'),
        raw("30k nested lists", "alice", BOOK, "[" * 30000 + "]" * 30000, code="invalid_json"),
        raw("40 nested objects", "alice", BOOK, '{"a":' * 40 + "1" + "}" * 40, code="invalid_json"),
        raw("100k nested lists", "alice", BOOK, "[" * 100000 + "]" * 100000, status=413),
        raw("over 64 KiB", "admin", VMS, '{"id": "vm-big", "d": "' + "d" * 70000 + '"}', 413),
        Bad("form-encoded", "alice", "post", BOOK, 415, None, {"data": {"hours": "1"}}),
        raw("text/plain", "alice", BOOK, '{"hours": 1}', 415, content_type="text/plain"),
        raw(
            "vnd+json", "alice", BOOK, '{"hours": 1}', 415, content_type="application/vnd.api+json"
        ),
    ],
    "query strings": [
        get("history limit 0", "/api/history?limit=0"),
        get("history limit 501", "/api/history?limit=501"),
        get("history limit word", "/api/history?limit=ten"),
        get("history cursor word", "/api/history?cursor=abc", "invalid_cursor"),
        get("history cursor negative", "/api/history?cursor=-1", "invalid_cursor"),
        get("history cursor superscript", "/api/history?cursor=%C2%B2", "invalid_cursor"),
        get("history cursor overflow", "/api/history?cursor=9999999999999999999", "invalid_cursor"),
        get("history action", "/api/history?action=delete"),
        get("history since", "/api/history?since=yesterday"),
        get("history since overflow", "/api/history?since=0001-01-01T00:00:00%2B14:00"),
        get("history until overflow", "/api/history?until=9999-12-31T23:59:59-14:00"),
        get("bookings limit 0", "/api/me/bookings?limit=0"),
        get("bookings cursor", "/api/me/bookings?cursor=x1", "invalid_cursor"),
        get("notifications limit 501", "/api/notifications?limit=501"),
        get("notifications cursor", "/api/notifications?cursor=%C2%B2", "invalid_cursor"),
        get("vms status", "/api/vms?status=lost"),
        get("vms group word", "/api/vms?group=abc"),
        get("vms group superscript", "/api/vms?group=%C2%B2"),
        get("vms q with NUL", "/api/vms?q=a%00b"),
        get("vm path with NUL", "/api/vms/a%00b"),
    ],
}


@pytest.mark.parametrize("category", list(CASES))
def test_rejected_request_changes_nothing(request, stocked, admin, category):
    """Each request of the category is refused as expected, and leaves all state as it was."""
    failures = []
    for case in CASES[category]:
        client = request.getfixturevalue(case.who)
        before = snapshot(client, reader=admin)
        response = case.send(client)
        try:
            error_of(response, case.status, case.code)
            assert snapshot(client, reader=admin) == before, "state changed"
        except AssertionError as exc:
            failures.append(f"{case.name}: {exc}")
    assert not failures, "\n".join(failures)


def test_renew_error_says_how_much_can_still_be_added(stocked, alice):
    error = error_of(alice.post("/api/vms/vm-booked/renew", json={"hours": 23}), 400)
    assert "at most 22 more hour(s)" in error["message"]


def test_validation_message_names_the_field(stocked, alice):
    error = error_of(alice.post("/api/vms/vm-free/book", json={"hours": "2"}), 400)
    assert "hours" in error["message"]
    error = error_of(alice.post("/api/vms/vm-free/book", json={"hours": 1, "colour": 1}), 400)
    assert "colour" in error["message"]


def test_strings_are_trimmed_before_they_are_checked(app, admin, alice):
    vm = admin.post("/api/vms", json={"id": "  vm-7  ", "description": "  box  "})
    assert vm.status_code == 201
    assert (vm.get_json()["id"], vm.get_json()["description"]) == ("vm-7", "box")
    group = admin.post("/api/groups", json={"name": "  Perf  ", "vm_ids": [" vm-7 "]})
    assert group.status_code == 201
    assert (group.get_json()["name"], group.get_json()["vm_ids"]) == ("Perf", ["vm-7"])
    token = alice.post("/api/me/tokens", json={"name": "  ci  "})
    assert token.get_json()["name"] == "ci"
    client = app.test_client()
    login = client.post("/api/auth/login", json={"email": "  Carol@Example.COM "})
    assert login.get_json()["user"]["email"] == "carol@example.com"
    assert client.get("/api/me").get_json()["email"] == "carol@example.com"


def test_boundary_values_are_accepted(stocked, admin, alice, bob):
    assert alice.post("/api/vms/vm-free/book", json={"hours": 24}).status_code == 200
    assert (
        admin.post("/api/vms", json={"id": "a" * 64, "description": "d" * 500}).status_code == 201
    )
    assert admin.post("/api/groups", json={"name": "n" * 100}).status_code == 201
    assert admin.post("/api/groups", json={"name": "Ü"}).status_code == 201
    assert alice.get("/api/history?limit=500").status_code == 200
    assert alice.get("/api/history?limit=1").status_code == 200
    assert bob.post("/api/vms/vm-maint/book", json={"hours": 1}).status_code == 409


def test_json_with_charset_parameter_is_json(stocked, alice):
    response = alice.post(
        "/api/vms/vm-free/book",
        data='{"hours": 1}',
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 200


def test_unknown_api_path_and_method_are_json_errors(alice):
    error_of(alice.get("/api/nothing-here"), 404)
    error_of(alice.put("/api/vms", json={}), 405)
