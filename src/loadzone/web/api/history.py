"""The audit history and the export of the whole state."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import jsonify

from loadzone.identity.permissions import require_admin
from loadzone.reporting import history, seedfile
from loadzone.web.api import actor, page, parse_cursor
from loadzone.web.api.schemas import HistoryPage, HistoryQuery

bp = APIBlueprint("history", __name__, url_prefix="/api", tag="History")


@bp.get("/history")
@bp.input(HistoryQuery, location="query", arg_name="query")
@bp.output(HistoryPage)
def audit(query):
    """Everyone's bookings, renewals and releases, newest first."""
    actor()
    items, next_id = history.page(
        query["limit"],
        parse_cursor(query.get("cursor")),
        vm_id=query.get("vm_id"),
        user=query.get("user"),
        action=query.get("action"),
        since=query.get("since"),
        until=query.get("until"),
    )
    # Already serialised: dumping 500 records again through the schema doubled the time.
    return jsonify(page(items, next_id))


@bp.get("/export")
@bp.doc(responses={200: "The whole state in the seed's data.json shape"})
def export():
    """Everything as data.json (admins only, when admins are configured)."""
    who = actor()
    if who.admins_configured:
        require_admin(who)
    return seedfile.export_state()
