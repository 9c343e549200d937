"""Usage figures for the charts, computed by the database."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import jsonify

from loadzone.reporting import usage
from loadzone.web.api import actor, now
from loadzone.web.api.schemas import UsageOut, UsageQuery

bp = APIBlueprint("usage", __name__, url_prefix="/api", tag="Usage")


@bp.get("/usage")
@bp.input(UsageQuery, location="query", arg_name="query")
@bp.output(UsageOut)
def usage_report(query):
    """Bookings, hours, occupancy and people per group and per VM over 7 or 30 days."""
    actor()
    # Returned as built: the schema documents the shape (its `from` key is a Python keyword).
    return jsonify(usage.report(now(), query["days"]))
