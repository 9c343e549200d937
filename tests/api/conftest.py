"""API helpers: the one error shape, and a snapshot of everything a request could change."""

from __future__ import annotations

import pytest

from loadzone.core import storage
from tests.unit import due


def error_of(response, status: int, code: str | None = None) -> dict:
    """Assert `response` is the API's error shape with `status` (and `code`); return the error."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"], body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def delete(client, path: str):
    """DELETE as the browser sends it: a cookie write always carries the JSON content type."""
    return client.delete(path, content_type="application/json")


def snapshot(client, reader=None) -> dict:
    """All state a request could change: VMs, groups, the audit (as `reader`, default `client`),
    and the client's own notifications and tokens."""

    def get(who, path):
        response = who.get(path)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    reader = reader or client
    return {
        "vms": get(reader, "/api/vms"),
        "groups": get(reader, "/api/groups"),
        "history": get(reader, "/api/history?limit=500"),
        "bookings": get(reader, "/api/bookings?limit=500"),
        "notifications": get(client, "/api/notifications?limit=500"),
        "tokens": get(client, "/api/me/tokens"),
    }


def walk_pages(client, path: str, limit: int) -> list[list[dict]]:
    """Follow next_cursor from the first page to the last; return every page."""
    pages, cursor = [], None
    separator = "&" if "?" in path else "?"
    for _ in range(1000):
        url = f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert isinstance(cursor, str)
    raise AssertionError("pagination never ended")


@pytest.fixture
def run_job(app):
    """Run a scheduler job's use case (release_due / warn_due) at an explicit instant."""

    def run(name: str, vm_id: str, now):
        with app.app_context(), storage.transaction():
            if name == "warn":
                return due.warn_due(vm_id, now, app.extensions["loadzone.rules"])
            return due.release_due(vm_id, now)

    return run


@pytest.fixture
def stocked(admin, alice, make_vm):
    """A group with a free VM, a booked VM (alice's), and a VM in maintenance."""
    group = admin.post("/api/groups", json={"name": "Perf"}).get_json()
    make_vm("vm-free", group=group["id"], description="spare box")
    make_vm("vm-booked")
    make_vm("vm-maint")
    assert admin.patch("/api/vms/vm-maint", json={"maintenance": True}).status_code == 200
    assert alice.post("/api/vms/vm-booked/book", json={"hours": 2}).status_code == 200
    return group
