"""Sign-in and sign-out."""

from __future__ import annotations

import logging

from apiflask import APIBlueprint
from flask import current_app, g, redirect, request, session
from flask_limiter.util import get_remote_address

from loadzone.core.storage import transaction
from loadzone.errors import NotAllowed
from loadzone.identity import accounts, auth
from loadzone.notifications import mailer
from loadzone.web import oidc
from loadzone.web.api import now
from loadzone.web.api.schemas import LoginIn, LoginOut, LogoutOut, NoBody
from loadzone.web.ratelimit import limiter

bp = APIBlueprint("session", __name__, url_prefix="/api/auth", tag="Sign-in")
verify_bp = APIBlueprint("verify", __name__, enable_openapi=False)
log = logging.getLogger("loadzone.signin")


def _login_address() -> str:
    data = request.get_json(silent=True)
    email = data.get("email") if isinstance(data, dict) else None
    return str(email).strip().lower() if email else "-"


def _user_json(user, actor) -> dict:
    return {"email": user.email, "is_admin": actor.is_admin, "created": user.created.isoformat()}


def _send_link(email: str, link: str) -> str:
    box = mailer.outbox(current_app)
    if box is None:
        # No SMTP configured: the operator reads the link off the console.
        print(f"LoadZone sign-in link for {email}: {link}", flush=True)
        log.warning("sign-in link for %s printed on the console (no SMTP configured)", email)
        return "console"
    box.send(
        email,
        "Your LoadZone sign-in link",
        f"Open this link to sign in to LoadZone (valid 15 minutes, once):\n\n{link}\n\n"
        "If you did not ask for it, ignore this message.",
    )
    return "email"


@bp.post("/login")
@bp.input(LoginIn, arg_name="body")
@bp.output(LoginOut, status_code=200, description="Signed in (open mode)")
@bp.doc(responses={202: "A sign-in link was sent (link mode)"})
@limiter.limit(lambda: auth.settings().login_limit, key_func=_login_address, scope="login-address")
@limiter.limit(
    lambda: auth.settings().client_login_limit, key_func=get_remote_address, scope="login-client"
)
def login(body):
    """Sign in by e-mail: at once in open mode, by a mailed link in link mode."""
    settings = auth.settings()
    if settings.auth_mode == "oidc":
        raise NotAllowed("Sign in with the identity provider: GET /auth/oidc/start.", "oidc_only")
    email = accounts.normalise_email(body["email"], settings.allowed_domains)
    if settings.auth_mode == "open":
        with transaction():
            user = accounts.sign_in(email, now())
            auth.start_session(user)
            data = _user_json(user, auth.actor_for(email))
        return {"user": data}
    with transaction():
        secret = accounts.create_login_link(email, now())
    base = settings.public_url or request.host_url.rstrip("/")
    delivery = _send_link(email, f"{base}/auth/verify?token={secret}")
    message = (
        "If the address may sign in, a link is on its way; it is valid for 15 minutes."
        if delivery == "email"
        else "No mail server is configured: the sign-in link was printed on the server console."
    )
    return {"user": None, "message": message, "delivery": delivery}, 202


@bp.post("/logout")
@bp.input(NoBody, arg_name="body")
@bp.output(LogoutOut, status_code=200)
def logout(body):
    """End the session: every browser signed in as this person is signed out.

    After an OpenID Connect sign-in, `redirect` is the provider's logout page when it has one.
    """
    actor = auth.require_actor()
    if g.get("via_cookie"):
        with transaction():
            accounts.end_sessions(actor.email)
    id_token = session.get(oidc.ID_TOKEN)
    session.clear()
    url = oidc.end_session_url(id_token) if id_token else None
    return {"redirect": url} if url else {}


@verify_bp.get("/auth/verify")
def verify():
    """Use a sign-in link: single use, 15 minutes, then to the board."""
    token = request.args.get("token", "")
    try:
        with transaction():
            email = accounts.consume_login_link(token, now())
            user = accounts.sign_in(email, now())
            auth.start_session(user)
    except NotAllowed:
        session.clear()
        return redirect("/login?error=link", code=303)
    return redirect("/", code=303)
