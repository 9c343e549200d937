"""The outbox for administrators: deliveries that failed, and sending one again."""

from __future__ import annotations

from apiflask import APIBlueprint

from loadzone.core.storage import transaction
from loadzone.core.timeutil import isoformat
from loadzone.identity import auth
from loadzone.identity.permissions import require_admin
from loadzone.notifications import outbox
from loadzone.web.api import actor, now, page, parse_cursor
from loadzone.web.api.schemas import DeliveryPage, DeliveryQuery, DeliveryRetried, NoBody

bp = APIBlueprint("deliveries", __name__, url_prefix="/api", tag="Deliveries")


def _json(row) -> dict:
    return {
        "id": row.id,
        "channel": row.channel,
        "notification_id": row.notification_id,
        "target": row.target,
        "key": row.key,
        "state": row.state,
        "attempts": row.attempts,
        "next_at": isoformat(row.next_at),
        "last_error": row.last_error,
        "created_at": isoformat(row.created_at),
        "sent_at": isoformat(row.sent_at),
    }


@bp.get("/deliveries")
@bp.input(DeliveryQuery, location="query", arg_name="query")
@bp.output(DeliveryPage)
def listing(query):
    """E-mails and webhook posts in one state, newest first (admins only)."""
    require_admin(actor())
    rows, next_id = outbox.listing(
        query["state"], query["limit"], parse_cursor(query.get("cursor"))
    )
    return page([_json(row) for row in rows], next_id)


@bp.post("/deliveries/<int:delivery_id>/retry")
@bp.input(NoBody, arg_name="body")
@bp.output(DeliveryRetried)
def retry(delivery_id: int, body):
    """Send a failed delivery again, with the same key, for another retry period (admins only)."""
    require_admin(actor())
    hours = auth.settings().delivery_hours
    with transaction():
        data = _json(outbox.retry(delivery_id, now(), hours))
    return data
