"""The one-click extend page: GET shows what the link offers, its button POSTs the token.

The link is the credential, so neither needs a session; GET never changes anything. The
form carries the token in its body, and a write naming another site in Origin is refused
(the project's CSRF rule for requests without a cookie).
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, request
from flask_babel import get_locale

from loadzone.booking import extend
from loadzone.core.storage import transaction
from loadzone.core.timeutil import utcnow
from loadzone.errors import DomainError, Invalid
from loadzone.identity import auth

bp = Blueprint("extend", __name__)
# Why a link cannot be used, in words the page translates; other refusals show the reason.
REASONS = ("link_unknown", "link_used", "booking_ended")


def _page(status: int = 200, **context):
    context.setdefault("offer", None)
    context.setdefault("error", None)
    context.setdefault("done", False)
    html = render_template("extend.html", boot={"locale": str(get_locale())}, **context)
    # The app-wide Referrer-Policy (same-origin) keeps the token from other sites; a stricter
    # one would make the browser send "Origin: null" with the form, which the rule refuses.
    return html, status, {"Cache-Control": "no-store"}


def _refused(error: DomainError):
    code = error.code if error.code in REASONS else "refused"
    return _page(error.status, error=code, reason=error.message)


@bp.get("/extend/<token>")
def show(token: str):
    """What the link would extend, with one button; or a 4xx page saying why not."""
    try:
        offer = extend.offer(token, utcnow())
    except DomainError as error:
        return _refused(error)
    return _page(offer=offer, token=token)


@bp.post("/extend")
def use():
    """Add an hour through the normal renewal; once, and only while the booking lasts."""
    token = request.form.get("token", "")
    try:
        auth.check_origin()
        if not token:
            raise Invalid("The form carries no extend link.", "link_unknown")
        with transaction():
            offer = extend.use(token, utcnow(), current_app.extensions["loadzone.rules"])
    except DomainError as error:
        return _refused(error)
    return _page(offer=offer, done=True)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
