"""Calendar feeds: the secret in the address is the credential, as calendar programs
cannot sign in."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from loadzone.core.timeutil import utcnow
from loadzone.reporting import calendarfeed

bp = Blueprint("feeds", __name__)


@bp.get("/calendar/<secret>.ics")
def calendar(secret: str):
    """The person's reserved and active bookings, or 404 for an unknown or replaced secret."""
    email = calendarfeed.owner_of(secret)
    if email is None:
        abort(404)
    response = Response(calendarfeed.render(email, utcnow()), mimetype="text/calendar")
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
