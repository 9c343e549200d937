"""Bookings as records: book now or reserve ahead, read, list, move, cancel or release."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import jsonify

from loadzone.booking import reservations
from loadzone.core.storage import transaction
from loadzone.errors import Invalid
from loadzone.serialize import booking_dict
from loadzone.web.api import actor, now, page, parse_cursor, rules
from loadzone.web.api.schemas import (
    BookingIn,
    BookingOut,
    BookingPage,
    BookingPatch,
    BookingQuery,
    BookingsGranted,
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


@bp.post("")
@bp.input(BookingIn, arg_name="body")
@bp.output(BookingsGranted, status_code=201)
def create(body):
    """Book a VM now, or reserve it from `start`."""
    with transaction():
        made = reservations.create(
            actor(), body["vm_id"], body["hours"], now(), rules(), start=body.get("start")
        )
        data = {"bookings": [booking_dict(b) for b in made], "request": None}
    return data, 201


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
    return jsonify(page([booking_dict(b) for b in rows], next_id))


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


@bp.delete("/<int:booking_id>")
@bp.output(BookingOut)
def withdraw(booking_id: int):
    """Cancel a reservation, or release an active booking."""
    with transaction():
        data = booking_dict(reservations.withdraw(actor(), booking_id, now()))
    return data
