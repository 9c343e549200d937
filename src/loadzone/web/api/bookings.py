"""Bookings as records: book now or reserve ahead, read, list, move, cancel or release."""

from __future__ import annotations

import orjson
from apiflask import APIBlueprint
from flask import Response

from loadzone.booking import claims, heartbeats, pools, queue, queue_view, reservations
from loadzone.core.storage import transaction
from loadzone.errors import Invalid
from loadzone.inventory import labels as vm_labels
from loadzone.serialize import booking_dict
from loadzone.web.api import actor, now, page, parse_cursor, rules
from loadzone.web.api.schemas import (
    BookingIn,
    BookingOut,
    BookingPage,
    BookingPatch,
    BookingQuery,
    BookingsGranted,
    NoBody,
)

bp = APIBlueprint("bookings", __name__, url_prefix="/api/bookings", tag="Bookings")


def _states(raw: str | None) -> list[str] | None:
    if not raw:
        return None
    states = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = sorted(set(states) - set(reservations.STATES))
    if unknown:
        raise Invalid(
            f"Unknown state {unknown[0]!r}: use {', '.join(reservations.STATES)}.",
            "invalid_input",
        )
    return states


def _ask(body) -> claims.Ask:
    target = pools.Target(body.get("vm_id"), body.get("group"), body.get("labels") or {})
    if target.labels:
        vm_labels.check_labels(target.labels)
    return claims.Ask(
        target=target,
        hours=body["hours"],
        count=body.get("count", 1),
        start=body.get("start"),
        wait=body.get("wait", False),
        wait_minutes=body.get("wait_minutes", 60),
        heartbeat_s=body.get("heartbeat_s"),
    )


@bp.post("")
@bp.input(BookingIn, arg_name="body")
@bp.output(BookingsGranted, status_code=201)
@bp.doc(responses={202: "Nothing fits now and `wait` is true: the request joined the queue"})
def create(body):
    """Book now or reserve from `start`: one VM, or `count` of a group and/or labels; with
    `wait`, join the queue when nothing fits now."""
    ask = _ask(body)
    with transaction():
        made, waiting = claims.request(actor(), ask, now(), rules())
        data = {"bookings": [booking_dict(b) for b in made], "request": None}
        request_id = waiting.id if waiting is not None else None
    if request_id is None:
        return data, 201
    # Read after the commit: the queue was settled (holds, position) just before it.
    [data["request"]] = queue_view.describe([queue.get_request(request_id)], now())
    return data, 202


@bp.get("")
@bp.input(BookingQuery, location="query", arg_name="query")
@bp.output(BookingPage)
def list_bookings(query):
    """Bookings ordered by start; `from`/`to` keep those overlapping the window."""
    actor()
    states = _states(query.get("state"))
    since, until = query.get("from_"), query.get("to")
    if since and until and until <= since:
        raise Invalid("to must lie after from.", "invalid_input")
    rows, next_id = reservations.page(
        query["limit"],
        parse_cursor(query.get("cursor")),
        vm_id=query.get("vm_id"),
        owner=query.get("owner"),
        group=query.get("group"),
        states=states,
        since=since,
        until=until,
    )
    # orjson straight to bytes: a calendar window is thousands of bookings.
    body = orjson.dumps(page([booking_dict(b) for b in rows], next_id), option=orjson.OPT_SORT_KEYS)
    return Response(body, mimetype="application/json")


# No max= on the id converter: Werkzeug would answer 405 instead of 404 for PATCH and DELETE.
@bp.get("/<int:booking_id>")
@bp.output(BookingOut)
def get_booking(booking_id: int):
    """One booking, in any state."""
    actor()
    return booking_dict(reservations.get_booking(booking_id))


@bp.patch("/<int:booking_id>")
@bp.input(BookingPatch, arg_name="body")
@bp.output(BookingOut)
def move(booking_id: int, body):
    """Move a reservation, or change an active booking's end."""
    with transaction():
        booking = reservations.move(
            actor(), booking_id, now(), rules(), start=body.get("start"), end=body.get("end")
        )
        data = booking_dict(booking)
    return data


@bp.post("/<int:booking_id>/heartbeat")
@bp.input(NoBody, arg_name="body")
@bp.output(BookingOut)
def heartbeat(booking_id: int, body):
    """The owner keeps a heartbeat booking alive."""
    with transaction():
        data = booking_dict(heartbeats.heartbeat(actor(), booking_id, now()))
    return data


@bp.delete("/<int:booking_id>")
@bp.output(BookingOut)
def withdraw(booking_id: int):
    """Cancel a reservation, or release an active booking."""
    with transaction():
        data = booking_dict(reservations.withdraw(actor(), booking_id, now()))
    return data
