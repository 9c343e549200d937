"""My preferences (which notifications also come by e-mail) and my calendar feed address."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import current_app, request, url_for

from loadzone.core.storage import transaction
from loadzone.notifications import preferences
from loadzone.reporting import calendarfeed
from loadzone.web.api import actor, now
from loadzone.web.api.schemas import CalendarOut, PreferencesIn, PreferencesOut

bp = APIBlueprint("preferences", __name__, url_prefix="/api", tag="Me")


@bp.get("/me/preferences")
@bp.output(PreferencesOut)
def get_preferences():
    """Which notification types I also get by e-mail (every type is listed)."""
    return {"email": preferences.email_choices(actor().email)}


@bp.put("/me/preferences")
@bp.input(PreferencesIn, arg_name="body")
@bp.output(PreferencesOut)
def put_preferences(body):
    """Change the types named in `email`; the others keep their setting."""
    email = actor().email
    with transaction():
        choices = preferences.set_email_choices(email, body["email"])
    return {"email": choices}


def _feed_url(secret: str) -> str:
    public = current_app.extensions["loadzone.settings"].public_url
    base = public or request.host_url.rstrip("/")
    return base + url_for("feeds.calendar", secret=secret)


@bp.post("/me/calendar")
@bp.output(CalendarOut, status_code=201)
def new_calendar():
    """A new secret address of my reserved and active bookings as iCalendar; the previous
    address stops working."""
    with transaction():
        secret = calendarfeed.renew(actor().email, now())
    return {"url": _feed_url(secret)}
