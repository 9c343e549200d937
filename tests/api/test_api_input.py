"""Strict input: every malformed request is a 4xx in the one error shape and changes nothing."""

from __future__ import annotations

import pytest

from tests.api.conftest import error_of, snapshot

JSON = "application/json"
LONG = "x" * 101


def body(payload):
    return {"json": payload}


def raw(data, content_type=JSON):
    return {"data": data, "content_type": content_type}


# (who, method, path, request keyword arguments, status, code or None)
CASES = {
    # hours must be a JSON integer 1..24
    "hours-float": ("alice", "post", "/api/vms/vm-free/book", body({"hours": 1.5}), 400, None),
    "hours-string": ("alice", "post", "/api/vms/vm-free/book", body({"hours": "2"}), 400, None),
    "hours-true": ("alice", "post", "/api/vms/vm-free/book", body({"hours": True}), 400, None),
    "hours-zero": ("alice", "post", "/api/vms/vm-free/book", body({"hours": 0}), 400, None),
    "hours-25": ("alice", "post", "/api/vms/vm-free/book", body({"hours": 25}), 400, None),
    "hours-negative": ("alice", "post", "/api/vms/vm-free/book", body({"hours": -1}), 400, None),
    "hours-null": ("alice", "post", "/api/vms/vm-free/book", body({"hours": None}), 400, None),
    "hours-huge": ("alice", "post", "/api/vms/vm-free/book", body({"hours": 10**30}), 400, None),
    "hours-missing": ("alice", "post", "/api/vms/vm-free/book", body({}), 400, None),
    "no-body": ("alice", "post", "/api/vms/vm-free/book", raw(""), 400, None),
    "renew-hours-float": (
        "alice",
        "post",
        "/api/vms/vm-booked/renew",
        body({"hours": 1.5}),
        400,
        None,
    ),
    "renew-hours-25": ("alice", "post", "/api/vms/vm-booked/renew", body({"hours": 25}), 400, None),
    "renew-too-long": (
        "alice",
        "post",
        "/api/vms/vm-booked/renew",
        body({"hours": 23}),
        400,
        "renew_too_long",
    ),
    # unknown fields
    "unknown-book": (
        "alice",
        "post",
        "/api/vms/vm-free/book",
        body({"hours": 1, "x": 1}),
        400,
        None,
    ),
    "unknown-renew": (
        "alice",
        "post",
        "/api/vms/vm-booked/renew",
        body({"hours": 1, "x": 1}),
        400,
        None,
    ),
    "unknown-vm": ("admin", "post", "/api/vms", body({"id": "vm-new", "color": "red"}), 400, None),
    "unknown-patch": ("admin", "patch", "/api/vms/vm-free", body({"booked_by": "me"}), 400, None),
    "unknown-group": ("admin", "post", "/api/groups", body({"name": "G", "x": 1}), 400, None),
    "unknown-group-patch": ("admin", "patch", "/api/groups/1", body({"id": 5}), 400, None),
    "unknown-token": ("alice", "post", "/api/me/tokens", body({"name": "t", "ttl": 5}), 400, None),
    "unknown-read": ("alice", "post", "/api/notifications/read", body({"x": 1}), 400, None),
    "unknown-login": (
        "alice",
        "post",
        "/api/auth/login",
        body({"email": "a@example.com", "pw": "x"}),
        400,
        None,
    ),
    # VM ids
    "vm-id-empty": ("admin", "post", "/api/vms", body({"id": ""}), 400, None),
    "vm-id-blank": ("admin", "post", "/api/vms", body({"id": "   "}), 400, None),
    "vm-id-65": ("admin", "post", "/api/vms", body({"id": "a" * 65}), 400, None),
    "vm-id-dash": ("admin", "post", "/api/vms", body({"id": "-vm"}), 400, None),
    "vm-id-dot": ("admin", "post", "/api/vms", body({"id": ".vm"}), 400, None),
    "vm-id-accent": ("admin", "post", "/api/vms", body({"id": "vm\u00e9"}), 400, None),
    "vm-id-cyrillic": ("admin", "post", "/api/vms", body({"id": "\u0432\u043c-1"}), 400, None),
    "vm-id-space": ("admin", "post", "/api/vms", body({"id": "vm 1"}), 400, None),
    "vm-id-null": ("admin", "post", "/api/vms", body({"id": None}), 400, None),
    "vm-id-number": ("admin", "post", "/api/vms", body({"id": 5}), 400, None),
    "vm-id-missing": ("admin", "post", "/api/vms", body({"description": "x"}), 400, None),
    "vm-description-501": (
        "admin",
        "post",
        "/api/vms",
        body({"id": "vm-new", "description": "d" * 501}),
        400,
        None,
    ),
    "vm-group-string": (
        "admin",
        "post",
        "/api/vms",
        body({"id": "vm-new", "group": "1"}),
        400,
        None,
    ),
    "patch-maintenance-string": (
        "admin",
        "patch",
        "/api/vms/vm-free",
        body({"maintenance": "yes"}),
        400,
        None,
    ),
    "patch-maintenance-int": (
        "admin",
        "patch",
        "/api/vms/vm-free",
        body({"maintenance": 1}),
        400,
        None,
    ),
    "patch-group-float": ("admin", "patch", "/api/vms/vm-free", body({"group": 1.5}), 400, None),
    "patch-description-501": (
        "admin",
        "patch",
        "/api/vms/vm-free",
        body({"description": "d" * 501}),
        400,
        None,
    ),
    "patch-expiry-garbage": (
        "admin",
        "patch",
        "/api/vms/vm-booked",
        body({"expires_at": "tomorrow"}),
        400,
        None,
    ),
    "patch-expiry-number": (
        "admin",
        "patch",
        "/api/vms/vm-booked",
        body({"expires_at": 1700000000}),
        400,
        None,
    ),
    "patch-expiry-null": (
        "admin",
        "patch",
        "/api/vms/vm-booked",
        body({"expires_at": None}),
        400,
        None,
    ),
    "patch-expiry-past": (
        "admin",
        "patch",
        "/api/vms/vm-booked",
        body({"expires_at": "2001-01-01T00:00:00Z"}),
        400,
        "invalid_expires_at",
    ),
    "patch-expiry-overflow": (
        "admin",
        "patch",
        "/api/vms/vm-booked",
        body({"expires_at": "9999-12-31T23:59:59-14:00"}),
        400,
        None,
    ),
    # group names and members
    "group-name-empty": ("admin", "post", "/api/groups", body({"name": ""}), 400, None),
    "group-name-blank": ("admin", "post", "/api/groups", body({"name": "   "}), 400, None),
    "group-name-101": ("admin", "post", "/api/groups", body({"name": LONG}), 400, None),
    "group-name-101-padded": (
        "admin",
        "post",
        "/api/groups",
        body({"name": " " + LONG + " "}),
        400,
        None,
    ),
    "group-name-null": ("admin", "post", "/api/groups", body({"name": None}), 400, None),
    "group-name-number": ("admin", "post", "/api/groups", body({"name": 7}), 400, None),
    "group-rename-empty": ("admin", "patch", "/api/groups/1", body({"name": ""}), 400, None),
    "group-rename-101": ("admin", "patch", "/api/groups/1", body({"name": LONG}), 400, None),
    "group-vm-ids-bad-id": (
        "admin",
        "post",
        "/api/groups",
        body({"name": "G", "vm_ids": ["-x"]}),
        400,
        None,
    ),
    "group-vm-ids-not-list": (
        "admin",
        "post",
        "/api/groups",
        body({"name": "G", "vm_ids": "vm-free"}),
        400,
        None,
    ),
    # tokens, notifications, sign-in
    "token-name-empty": ("alice", "post", "/api/me/tokens", body({"name": " "}), 400, None),
    "token-name-101": ("alice", "post", "/api/me/tokens", body({"name": LONG}), 400, None),
    "read-both": (
        "alice",
        "post",
        "/api/notifications/read",
        body({"ids": [1], "all": True}),
        400,
        None,
    ),
    "read-neither": ("alice", "post", "/api/notifications/read", body({}), 400, None),
    "read-all-false": ("alice", "post", "/api/notifications/read", body({"all": False}), 400, None),
    "read-ids-strings": (
        "alice",
        "post",
        "/api/notifications/read",
        body({"ids": ["1"]}),
        400,
        None,
    ),
    "read-ids-zero": ("alice", "post", "/api/notifications/read", body({"ids": [0]}), 400, None),
    "read-ids-huge": (
        "alice",
        "post",
        "/api/notifications/read",
        body({"ids": [10**30]}),
        400,
        None,
    ),
    "login-bad-email": ("alice", "post", "/api/auth/login", body({"email": "nobody"}), 400, None),
    "login-no-email": ("alice", "post", "/api/auth/login", body({}), 400, None),
    # body shapes and encodings
    "body-array": ("alice", "post", "/api/vms/vm-free/book", body([{"hours": 1}]), 400, None),
    "body-string": ("alice", "post", "/api/vms/vm-free/book", body("hours"), 400, None),
    "body-number": ("alice", "post", "/api/vms/vm-free/book", raw("5"), 400, None),
    "body-null": ("alice", "post", "/api/vms/vm-free/book", raw("null"), 400, None),
    "malformed-json": (
        "alice",
        "post",
        "/api/vms/vm-free/book",
        raw('{"hours": 1'),
        400,
        "invalid_json",
    ),
    "single-quotes": (
        "alice",
        "post",
        "/api/vms/vm-free/book",
        raw("{'hours': 1}"),
        400,
        "invalid_json",
    ),
    "trailing-comma": (
        "alice",
        "post",
        "/api/vms/vm-free/book",
        raw('{"hours": 1,}'),
        400,
        "invalid_json",
    ),
    "invalid-utf8": (
        "admin",
        "post",
        "/api/groups",
        raw(b'{"name": "\xff\xfe"}'),
        400,
        "invalid_json",
    ),
    "nul-in-string": ("admin", "post", "/api/groups", raw('{"name": "a\\u0000b"}'), 400, None),
    "lone-surrogate": ("admin", "post", "/api/groups", raw('{"name": "a\\ud800"}'), 400, None),
    "surrogate-token": ("alice", "post", "/api/me/tokens", raw('{"name": "\\udfff"}'), 400, None),
    "nul-description": (
        "admin",
        "patch",
        "/api/vms/vm-free",
        raw('{"description": "x\\u0000"}'),
        400,
        None,
    ),
    "deep-list": (
        "alice",
        "post",
        "/api/vms/vm-free/book",
        raw("[" * 30000 + "]" * 30000),
        400,
        None,
    ),
    "deep-object": (
        "alice",
        "post",
        "/api/vms/vm-free/book",
        raw('{"a":' * 40 + "1" + "}" * 40),
        400,
        None,
    ),
    "deep-100k": (
        "alice",
        "post",
        "/api/vms/vm-free/book",
        raw("[" * 100000 + "]" * 100000),
        413,
        None,
    ),
    "too-large": (
        "admin",
        "post",
        "/api/vms",
        raw('{"id": "vm-big", "description": "' + "d" * 70000 + '"}'),
        413,
        "too_large",
    ),
    "form-encoded": (
        "alice",
        "post",
        "/api/vms/vm-free/book",
        {"data": {"hours": "1"}},
        415,
        "unsupported_media_type",
    ),
    "text-plain": (
        "alice",
        "post",
        "/api/vms/vm-free/book",
        raw('{"hours": 1}', "text/plain"),
        415,
        "unsupported_media_type",
    ),
    "json-suffix-type": (
        "alice",
        "post",
        "/api/vms/vm-free/book",
        raw('{"hours": 1}', "application/vnd.api+json"),
        415,
        None,
    ),
    # query strings
    "history-limit-0": ("alice", "get", "/api/history?limit=0", {}, 400, None),
    "history-limit-501": ("alice", "get", "/api/history?limit=501", {}, 400, None),
    "history-limit-word": ("alice", "get", "/api/history?limit=ten", {}, 400, None),
    "history-cursor-word": ("alice", "get", "/api/history?cursor=abc", {}, 400, "invalid_cursor"),
    "history-cursor-negative": ("alice", "get", "/api/history?cursor=-1", {}, 400, None),
    "history-cursor-superscript": (
        "alice",
        "get",
        "/api/history?cursor=%C2%B2",
        {},
        400,
        "invalid_cursor",
    ),
    "history-cursor-overflow": (
        "alice",
        "get",
        "/api/history?cursor=9999999999999999999",
        {},
        400,
        "invalid_cursor",
    ),
    "history-action": ("alice", "get", "/api/history?action=delete", {}, 400, None),
    "history-since": ("alice", "get", "/api/history?since=yesterday", {}, 400, None),
    "history-since-overflow": (
        "alice",
        "get",
        "/api/history?since=0001-01-01T00:00:00%2B14:00",
        {},
        400,
        None,
    ),
    "history-until-overflow": (
        "alice",
        "get",
        "/api/history?until=9999-12-31T23:59:59-14:00",
        {},
        400,
        None,
    ),
    "bookings-limit-0": ("alice", "get", "/api/me/bookings?limit=0", {}, 400, None),
    "bookings-cursor": ("alice", "get", "/api/me/bookings?cursor=x1", {}, 400, "invalid_cursor"),
    "notifications-limit-501": ("alice", "get", "/api/notifications?limit=501", {}, 400, None),
    "notifications-cursor": (
        "alice",
        "get",
        "/api/notifications?cursor=%C2%B2",
        {},
        400,
        "invalid_cursor",
    ),
    "vms-status": ("alice", "get", "/api/vms?status=lost", {}, 400, None),
    "vms-group-word": ("alice", "get", "/api/vms?group=abc", {}, 400, None),
    "vms-group-superscript": ("alice", "get", "/api/vms?group=%C2%B2", {}, 400, None),
    "vms-q-nul": ("alice", "get", "/api/vms?q=a%00b", {}, 400, None),
    "vm-path-nul": ("alice", "get", "/api/vms/a%00b", {}, 400, None),
}


def _ids(cases):
    return list(cases)


@pytest.mark.parametrize("case", _ids(CASES))
def test_rejected_request_changes_nothing(request, stocked, admin, case):
    who, method, path, kwargs, status, code = CASES[case]
    client = request.getfixturevalue(who)
    before = snapshot(client, reader=admin)
    response = getattr(client, method)(path, **kwargs)
    error_of(response, status, code)
    assert snapshot(client, reader=admin) == before


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
