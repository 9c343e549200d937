"""Who is asking: session cookie or bearer token, and the CSRF rule for cookie requests."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g, request, session

from loadzone.core import sequence
from loadzone.errors import NotAllowed, NotSignedIn
from loadzone.extensions import db
from loadzone.identity import accounts, checked
from loadzone.identity.permissions import Actor
from loadzone.models import User

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def settings():
    return current_app.extensions["loadzone.settings"]


def actor_for(email: str) -> Actor:
    admins = settings().admins
    by_group = bool(settings().oidc_admin_group)
    is_admin = email in admins or (by_group and _idp_admin(email))
    return Actor(email=email, is_admin=is_admin, admins_configured=bool(admins) or by_group)


def _idp_admin(email: str) -> bool:
    """Admin by the provider's group claim at the person's last sign-in."""
    return bool(db.session.scalar(db.select(User.idp_admin).where(User.email == email)))


def start_session(user: User) -> None:
    session.clear()
    session["email"] = user.email
    session["epoch"] = user.session_epoch
    session.permanent = True


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _credentials() -> int:
    return sequence.versions(db.session).credentials


def token_email(token: str) -> str | None:
    """The e-mail a bearer token belongs to, or None; asks the database only when a
    credential changed since it last did (`checked.py`)."""
    key = ("token", accounts.digest(token))
    return checked.of_app().lookup(key, _credentials(), lambda: accounts.user_for_token(token))


def session_email() -> str | None:
    """The signed-in person of the session cookie, if it is still valid."""
    email = session.get("email")
    if not email:
        return None
    epoch = checked.of_app().lookup(
        ("session", email),
        _credentials(),
        lambda: db.session.scalar(db.select(User.session_epoch).where(User.email == email)),
    )
    if epoch is None or epoch != session.get("epoch"):
        session.clear()
        return None
    return email


def resolve() -> Actor | None:
    """Identify the requester once per request; None when anonymous."""
    if "actor" in g:
        return g.actor
    token = _bearer()
    if token is not None:
        email = token_email(token)
        if email is None:
            raise NotSignedIn("The API token is not valid (revoked or mistyped).", "bad_token")
        g.via_cookie = False
    else:
        email = session_email()
        g.via_cookie = email is not None
    g.actor = actor_for(email) if email else None
    return g.actor


def require_actor() -> Actor:
    actor = resolve()
    if actor is None:
        raise NotSignedIn("Sign in first.", "not_signed_in")
    return actor


def allowed_origins() -> set[str]:
    origins = {request.host_url.rstrip("/")}
    if settings().public_url:
        parts = urlsplit(settings().public_url)
        origins.add(f"{parts.scheme}://{parts.netloc}")
    return origins


def check_csrf() -> None:
    """A cookie-authenticated write must be JSON and, when an Origin is sent, from our origin."""
    if request.method not in UNSAFE_METHODS or not g.get("via_cookie"):
        return
    if request.mimetype != "application/json":
        raise NotAllowed("Requests from the browser must be sent as application/json.", "csrf")
    check_origin()


def check_origin() -> None:
    """Refuse a write whose Origin header names another site."""
    if request.method not in UNSAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") not in allowed_origins():
        raise NotAllowed("Cross-site requests are not accepted.", "csrf")
