"""Booking: ask once, wait in the queue if asked to, leave it when the wait runs out."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

from loadzone_client.api import Api
from loadzone_client.errors import Interrupted, NotGranted, Refused, Unavailable


@dataclass(frozen=True)
class Ask:
    """What `lz book` and `lz run` ask for; `wait` in seconds, None to not queue."""

    hours: int
    vm: str | None = None
    group: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    count: int | None = None
    wait: float | None = None
    heartbeat: int | None = None


def say(message: str) -> None:
    print(f"lz: {message}", file=sys.stderr, flush=True)


def group_id(api: Api, wanted: str) -> int:
    """A group's id from its name (case-insensitive, as the server compares) or its id."""
    groups = api.get("/api/groups")
    for group in groups:
        if group["name"].casefold() == wanted.casefold():
            return group["id"]
    if wanted.isascii() and wanted.isdigit():
        for group in groups:
            if group["id"] == int(wanted):
                return group["id"]
    raise Refused(f"There is no group named {wanted!r}.", 404, "not_found")


def request_body(api: Api, ask: Ask) -> dict:
    body: dict = {"hours": ask.hours}
    if ask.vm:
        body["vm_id"] = ask.vm
    if ask.group:
        body["group"] = group_id(api, ask.group)
    if ask.labels:
        body["labels"] = ask.labels
    if ask.count is not None:
        body["count"] = ask.count
    if ask.wait is not None:
        body["wait"] = True
        body["wait_minutes"] = min(1440, max(1, math.ceil(ask.wait / 60)))
    if ask.heartbeat is not None:
        body["heartbeat_s"] = ask.heartbeat
    return body


def book(api: Api, ask: Ask, poll: float) -> dict:
    """`{"bookings": [...], "request": ...}` once granted; raises NotGranted when the wait ends."""
    deadline = time.monotonic() + (ask.wait or 0)
    status, answer = api.call("POST", "/api/bookings", request_body(api, ask), repeatable=False)
    if status != 202:
        return answer
    request = answer["request"]
    try:
        return _wait(api, request, deadline, poll)
    except Interrupted:
        _withdraw(api, request["id"])
        raise


def _wait(api: Api, request: dict, deadline: float, poll: float) -> dict:
    shown = None
    while True:
        if request["state"] == "granted":
            return granted(api, request)
        if request["state"] != "waiting":
            raise NotGranted(f"Queue request {request['id']} {request['state']} ungranted.")
        if request["position"] != shown:
            shown = request["position"]
            eta = f", expected by {request['eta']}" if request.get("eta") else ""
            say(f"waiting in the queue (request {request['id']}): position {shown}{eta}")
        left = deadline - time.monotonic()
        if left <= 0:
            return _give_up(api, request)
        time.sleep(min(poll, left))
        try:
            request = api.get(f"/api/queue/{request['id']}")
        except Unavailable as error:
            say(f"{error.message}; still waiting")  # the request waits on the server regardless


def announce(answer: dict) -> None:
    for booking in answer["bookings"]:
        say(f"booked {booking['vm_id']} until {booking['end']} (booking {booking['id']})")


def granted(api: Api, request: dict) -> dict:
    bookings = [api.get(f"/api/bookings/{booking_id}") for booking_id in request["booking_ids"]]
    return {"bookings": bookings, "request": request}


def _give_up(api: Api, request: dict) -> dict:
    """Leave the queue; a grant that won the race with leaving is kept."""
    try:
        api.call("DELETE", f"/api/queue/{request['id']}")
    except Refused:
        request = api.get(f"/api/queue/{request['id']}")
        if request["state"] == "granted":
            return granted(api, request)
    raise NotGranted(f"Not granted within the wait; left the queue (request {request['id']}).")


def _withdraw(api: Api, request_id: int) -> None:
    """On the way out: leave the queue, or release what was granted meanwhile."""
    try:
        try:
            api.call("DELETE", f"/api/queue/{request_id}")
            say(f"left the queue (request {request_id})")
        except Refused:
            request = api.get(f"/api/queue/{request_id}")
            if request["state"] == "granted":
                release(api, request["booking_ids"])
    except (Refused, Unavailable) as error:
        say(f"could not leave the queue (request {request_id}): {error.message}")


def release(api: Api, booking_ids: list[int]) -> bool:
    """Release every booking; ones already ended count as released. False if any failed."""
    done = True
    for booking_id in booking_ids:
        try:
            answer = api.call("DELETE", f"/api/bookings/{booking_id}")[1]
            say(f"released {answer['vm_id']} (booking {booking_id})")
        except Refused as error:
            if error.status not in (404, 409):
                say(f"booking {booking_id}: {error.message}")
                done = False
        except Unavailable as error:
            say(f"could not release booking {booking_id}: {error.message}")
            done = False
    return done
