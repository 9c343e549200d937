"""The queue: waiting requests in grant order, one request, leaving the queue."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import jsonify

from loadzone.booking import pools, queue, queue_view
from loadzone.core.storage import transaction
from loadzone.web.api import actor, now
from loadzone.web.api.schemas import QueueQuery

bp = APIBlueprint("queue", __name__, url_prefix="/api/queue", tag="Queue")


@bp.get("")
@bp.input(QueueQuery, location="query", arg_name="query")
@bp.doc(responses={200: "Waiting requests in grant order (a plain array)"})
def waiting(query):
    """Waiting requests in grant order, optionally only those competing for a VM or group."""
    actor()
    target = None
    if query.get("vm_id") or query.get("group") is not None:
        target = pools.Target(query.get("vm_id"), query.get("group"))
    return jsonify(queue_view.describe(queue_view.waiting(target), now()))


@bp.get("/<int:request_id>")
@bp.doc(responses={200: "One request, in any state"})
def get_request(request_id: int):
    """One request, in any state."""
    actor()
    [data] = queue_view.describe([queue.get_request(request_id)], now())
    return jsonify(data)


@bp.delete("/<int:request_id>")
@bp.doc(responses={200: "The request, now cancelled"})
def leave(request_id: int):
    """Leave the queue (the owner or an admin); 409 unless waiting."""
    with transaction():
        queue.leave(actor(), request_id, now())
    [data] = queue_view.describe([queue.get_request(request_id)], now())
    return jsonify(data)
