"""The signed-in person: profile, API tokens, own bookings, notifications."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import jsonify

from loadzone.core.storage import transaction
from loadzone.core.timeutil import isoformat
from loadzone.errors import Invalid
from loadzone.extensions import db
from loadzone.identity import accounts
from loadzone.models import User
from loadzone.notifications import notify
from loadzone.reporting import history
from loadzone.web.api import actor, now, page, parse_cursor
from loadzone.web.api.schemas import (
    Empty,
    HistoryPage,
    NotificationPage,
    PageQuery,
    ReadIn,
    ReadOut,
    TokenIn,
    TokenOut,
    UserOut,
)

bp = APIBlueprint("me", __name__, url_prefix="/api", tag="Me")


@bp.get("/me")
@bp.output(UserOut)
def me():
    """Who I am."""
    who = actor()
    user = db.session.get(User, who.email)
    return {
        "email": who.email,
        "is_admin": who.is_admin,
        "created": isoformat(user.created) if user else None,
    }


def _token_json(token, secret: str | None = None) -> dict:
    data = {"id": token.id, "name": token.name, "created_at": isoformat(token.created_at)}
    if secret:
        data["token"] = secret
    return data


@bp.get("/me/tokens")
@bp.output(TokenOut(many=True))
def list_tokens():
    """My personal API tokens (the secrets are never shown again)."""
    return [_token_json(t) for t in accounts.list_tokens(actor().email)]


@bp.post("/me/tokens")
@bp.input(TokenIn, arg_name="body")
@bp.output(TokenOut, status_code=201)
def create_token(body):
    """Create a token for scripts and CI: use it as `Authorization: Bearer <token>`."""
    with transaction():
        token, secret = accounts.create_token(actor().email, body["name"], now())
        data = _token_json(token, secret)
    return data


@bp.delete("/me/tokens/<int:token_id>")
@bp.output(Empty, status_code=200)
def revoke_token(token_id: int):
    """Revoke one of my tokens; it stops working at once."""
    with transaction():
        accounts.revoke_token(actor().email, token_id)
    return {}


@bp.get("/me/bookings")
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(HistoryPage)
def my_bookings(query):
    """My booking history, newest first."""
    items, next_id = history.page(
        query["limit"], parse_cursor(query.get("cursor")), user=actor().email
    )
    # Already serialised: dumping 500 records again through the schema doubled the time.
    return jsonify(page(items, next_id))


@bp.get("/notifications")
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(NotificationPage)
def notifications(query):
    """My notifications, newest first, each marked read or not."""
    email = actor().email
    items, next_id = notify.list_for(email, query["limit"], parse_cursor(query.get("cursor")))
    return page(items, next_id, unread=notify.unread_count(email))


@bp.post("/notifications/read")
@bp.input(ReadIn, arg_name="body")
@bp.output(ReadOut)
def mark_read(body):
    """Mark notifications read: `{"ids": [...]}` or `{"all": true}`."""
    if body.get("all") is True and "ids" not in body:
        ids = None
    elif "ids" in body and not body.get("all"):
        ids = body["ids"]
    else:
        raise Invalid('Send either {"ids": [...]} or {"all": true}.', "invalid_input")
    email = actor().email
    with transaction():
        marked = notify.mark_read(email, ids)
    return {"marked": marked, "unread": notify.unread_count(email)}
