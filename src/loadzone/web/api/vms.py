"""VMs: list, add, edit, delete; book, renew, release."""

from __future__ import annotations

import orjson
from apiflask import APIBlueprint
from flask import Response, current_app, request

from loadzone.booking import bookings
from loadzone.core import sequence
from loadzone.core.storage import transaction
from loadzone.errors import Invalid
from loadzone.extensions import db
from loadzone.inventory import board, catalog
from loadzone.inventory import labels as vm_labels
from loadzone.serialize import vm_dict
from loadzone.web import broadcast
from loadzone.web.api import actor, now, rules
from loadzone.web.api.schemas import (
    DeleteQuery,
    Empty,
    HoursIn,
    NoBody,
    VmIn,
    VmOut,
    VmPatch,
    VmQuery,
)

bp = APIBlueprint("vms", __name__, url_prefix="/api/vms", tag="VMs")


def _group_filter(raw: str | None) -> tuple[int | None, bool]:
    if raw in (None, ""):
        return None, False
    if raw.lower() in ("none", "null"):
        return None, True
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise Invalid("group must be a group id or 'none'.", "invalid_input")
    return int(raw), False


@bp.get("")
@bp.input(VmQuery, location="query", arg_name="query")
@bp.output(VmOut(many=True))
def list_vms(query):
    """Every VM, optionally filtered by group, status and text."""
    actor()
    # Read before the list: the list reflects at least every event up to this number.
    seq = sequence.versions(db.session).seq
    if not any(query.get(k) for k in ("group", "status", "q", "label")):
        return _board(seq)
    group, ungrouped = _group_filter(query.get("group"))
    wanted = vm_labels.parse_filters(query.get("label", []))
    vms = catalog.list_vms(group, query.get("status"), query.get("q"), ungrouped, wanted)
    response = Response(_listing_json(vms), mimetype="application/json")
    response.headers["X-LoadZone-Seq"] = str(seq)
    return response


def _listing_json(vms) -> bytes:
    # Serialised directly: the schema above documents the shape, dumping 10k rows through it
    # would triple the time of this, the hottest endpoint.
    following, tags = catalog.upcoming(), vm_labels.of()
    items = [vm_dict(vm, following.get(vm.id), tags.get(vm.id)) for vm in vms]
    return orjson.dumps(items, option=orjson.OPT_SORT_KEYS)


def _board(seq: int) -> Response:
    """The whole list from the board's snapshot, 304 when the client holds it already."""
    snap = board.of(current_app).get(seq, lambda: _listing_json(catalog.list_vms()))
    # Cache-Control stays the API's no-store: clients that keep the list send its ETag.
    headers = {"X-LoadZone-Seq": str(snap.seq)}
    if request.if_none_match.contains_weak(snap.etag):
        response = Response(status=304, headers=headers)
    elif len(snap.body) > board.GZIP_OVER and "gzip" in request.accept_encodings:
        response = Response(snap.gzipped(), mimetype="application/json", headers=headers)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(snap.body, mimetype="application/json", headers=headers)
    response.set_etag(snap.etag)
    if len(snap.body) > board.GZIP_OVER:
        response.vary.add("Accept-Encoding")
    return response


@bp.post("")
@bp.input(VmIn, arg_name="body")
@bp.output(VmOut, status_code=201)
def add_vm(body):
    """Register a VM."""
    with transaction():
        vm = catalog.add_vm(
            actor(),
            now(),
            body["id"],
            body.get("group"),
            body.get("description"),
            body.get("labels"),
            body.get("address"),
        )
        data = catalog.describe(vm)
    return data, 201


@bp.get("/<vm_id>")
@bp.output(VmOut)
def get_vm(vm_id: str):
    """One VM."""
    actor()
    return catalog.describe(catalog.get_vm(vm_id))


@bp.patch("/<vm_id>")
@bp.input(VmPatch, arg_name="body")
@bp.output(VmOut)
def edit_vm(vm_id: str, body):
    """Change group, description or maintenance; admins may also set `expires_at`."""
    who = actor()
    changes = dict(body)
    expires_at = changes.pop("expires_at", None)
    with transaction():
        vm = None
        if changes:
            vm = catalog.edit_vm(who, vm_id, changes, now())
        if expires_at is not None:
            vm = bookings.override_expiry(who, vm_id, expires_at, now(), rules())
        if vm is None:
            vm = catalog.get_vm(vm_id)
        data = catalog.describe(vm)
    return data


@bp.delete("/<vm_id>")
@bp.input(DeleteQuery, location="query", arg_name="query")
@bp.output(Empty)
def delete_vm(vm_id: str, query):
    """Delete a VM; a booked one only by an admin with `?force=true`."""
    with transaction():
        bookings.delete_vm(actor(), vm_id, now(), force=query["force"])
    return {}


@bp.post("/<vm_id>/book")
@bp.input(HoursIn, arg_name="body")
@bp.output(VmOut)
def book(vm_id: str, body):
    """Book a free VM for a whole number of hours."""
    with transaction() as session:
        bookings.book_now(actor(), vm_id, body["hours"], now(), rules())
    return _as_sent(session, vm_id)


@bp.post("/<vm_id>/renew")
@bp.input(HoursIn, arg_name="body")
@bp.output(VmOut)
def renew(vm_id: str, body):
    """Add hours to my booking."""
    with transaction():
        data = catalog.describe(bookings.renew(actor(), vm_id, body["hours"], now(), rules()))
    return data


@bp.post("/<vm_id>/release")
@bp.input(NoBody, arg_name="body")
@bp.output(VmOut)
def release(vm_id: str, body):
    """Release my booking now (admins: anyone's)."""
    with transaction() as session:
        bookings.release_now(actor(), vm_id, now())
    return _as_sent(session, vm_id)


def _as_sent(session, vm_id: str) -> dict:
    # The object the browsers got with this commit: reading it again inside the
    # transaction held SQLite's write lock for three more queries (docs/performance.md).
    return broadcast.sent_vm(session, vm_id) or catalog.describe(catalog.get_vm(vm_id))
