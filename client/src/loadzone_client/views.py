"""`lz renew`, `lz release`, `lz status` and `lz queue`: one call or a few, then print."""

from __future__ import annotations

import json

from loadzone_client.api import Api
from loadzone_client.booking import say
from loadzone_client.errors import LzError, UsageError
from loadzone_client.settings import connect


def cmd_renew(args, signals) -> int:
    if args.hours < 1:
        raise UsageError("--hours must be at least 1.")
    api = connect(args)
    vm = api.call("POST", f"/api/vms/{args.vm}/renew", {"hours": args.hours}, repeatable=False)[1]
    say(f"renewed {vm['id']}: booked until {vm['expires_at']}")
    return 0


def cmd_release(args, signals) -> int:
    """Release each VM and booking named; carry on past failures, exit with the worst."""
    if not (args.vms or args.booking):
        raise UsageError("Give the VMs to release, or --booking ID.")
    api = connect(args)
    worst = 0
    calls = [("POST", f"/api/vms/{vm_id}/release", {}, vm_id) for vm_id in args.vms]
    calls += [("DELETE", f"/api/bookings/{b}", None, f"booking {b}") for b in args.booking]
    for method, path, body, what in calls:
        try:
            api.call(method, path, body)
            say(f"released {what}")
        except LzError as error:
            say(f"{what}: {error.message}")
            worst = max(worst, error.exit_code)
    return worst


def _my_bookings(api: Api, email: str) -> list[dict]:
    found, cursor = [], None
    while True:
        params = {"owner": email, "state": "active,reserved", "limit": 500}
        answer = api.get("/api/bookings", **params, **({"cursor": cursor} if cursor else {}))
        found += answer["items"]
        cursor = answer.get("next_cursor")
        if not cursor:
            return found


def _target(request: dict) -> str:
    if request.get("vm_id"):
        return request["vm_id"]
    parts = [f"group {request['group']}"] if request.get("group") is not None else []
    parts += [f"{key}={value}" for key, value in sorted(request.get("labels", {}).items())]
    return " ".join(parts)


def _request_line(request: dict) -> str:
    eta = f" expected by {request['eta']}" if request.get("eta") else ""
    return (
        f"request {request['id']}  {request['owner']}  {_target(request)}  "
        f"{request['count']} x {request['hours']} h  position {request['position']}{eta}"
    )


def cmd_status(args, signals) -> int:
    api = connect(args)
    email = api.get("/api/me")["email"]
    bookings = _my_bookings(api, email)
    requests = [r for r in api.get("/api/queue") if r["owner"] == email]
    if args.json:
        print(json.dumps({"user": email, "bookings": bookings, "requests": requests}, indent=2))
        return 0
    for booking in bookings:
        beat = f"  heartbeat {booking['heartbeat_s']} s" if booking.get("heartbeat_s") else ""
        print(
            f"booking {booking['id']}  {booking['vm_id']}  {booking['state']}  "
            f"{booking['start']} .. {booking['end']}{beat}"
        )
    for request in requests:
        print(_request_line(request))
    if not (bookings or requests):
        say(f"{email} holds no bookings and waits for nothing")
    return 0


def cmd_queue(args, signals) -> int:
    waiting = connect(args).get("/api/queue")
    if args.json:
        print(json.dumps(waiting, indent=2))
        return 0
    for request in waiting:
        print(_request_line(request))
    if not waiting:
        say("the queue is empty")
    return 0
