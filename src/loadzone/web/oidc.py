"""Sign-in through the company's OpenID Connect provider: authorization code flow with PKCE.

Authlib keeps `state`, `nonce` and the PKCE verifier in the signed session cookie and checks
the ID token (signature, issuer, audience, expiry, nonce); identity/oidc.py decides who it is.
A refusal is the sign-in page with a reason; tokens and claims are never logged.
"""

from __future__ import annotations

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Blueprint, Flask, abort, current_app, redirect, request, session
from joserfc.errors import JoseError

from loadzone.core.storage import transaction
from loadzone.core.timeutil import utcnow
from loadzone.errors import DomainError
from loadzone.identity import auth, oidc
from loadzone.web.pages import login_page

bp = Blueprint("oidc", __name__)
log = logging.getLogger("loadzone.signin")
NAME = "idp"
ID_TOKEN = "oidc_id_token"
# What a provider that is down or talks nonsense raises inside Authlib and requests.
TROUBLE = (requests.RequestException, ValueError, TypeError, KeyError, AttributeError, RuntimeError)


class Refused(Exception):
    """A sign-in that ends on the sign-in page with `reason` and an HTTP status."""

    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _client():
    registry = current_app.extensions.get("loadzone.oidc")
    if registry is None:
        abort(404)
    return registry.create_client(NAME)


def _metadata(client) -> dict:
    """The provider's discovery document, fetched once; its issuer must be the configured one."""
    metadata = client.load_server_metadata()
    issuer = str(metadata.get("issuer", "")).rstrip("/")
    if issuer != auth.settings().oidc_issuer:
        metadata.pop("_loaded_at", None)  # fetch again next time
        raise ValueError("issuer mismatch")
    return metadata


def _base() -> str:
    return auth.settings().public_url or request.host_url.rstrip("/")


@bp.get("/auth/oidc/start")
def start():
    """Off to the provider with a fresh state, nonce and PKCE challenge."""
    client = _client()
    _forget_attempts()  # one attempt per browser: abandoned ones would swell the cookie
    try:
        _metadata(client)
        return client.authorize_redirect(_base() + "/auth/oidc/callback")
    except TROUBLE as exc:
        return _refused(Refused("provider_unavailable", 502), exc)


def _token(client) -> dict:
    """Exchange the code; every failure becomes a Refused with a reason for the page."""
    try:
        _metadata(client)
        token = client.authorize_access_token()
    except MismatchingStateError as exc:
        raise Refused("oidc_state", 400) from exc
    except OAuthError as exc:
        denied = exc.error in ("access_denied", "login_required", "consent_required")
        raise Refused("oidc_denied" if denied else "oidc_token", 403 if denied else 400) from exc
    except (JoseError, AuthlibBaseError) as exc:
        raise Refused("oidc_token", 400) from exc
    except TROUBLE as exc:
        raise Refused("provider_unavailable", 502) from exc
    if not isinstance(token, dict) or not token.get("userinfo"):
        raise Refused("oidc_token", 400)  # no ID token: nothing vouches for the person
    return token


@bp.get("/auth/oidc/callback")
def callback():
    """Back from the provider: check everything, then start the LoadZone session."""
    try:
        token = _token(_client())
        with transaction():
            person = oidc.identify(token["userinfo"], auth.settings())
            user = oidc.sign_in(person, utcnow())
            auth.start_session(user)
    except Refused as refusal:
        return _refused(refusal, refusal.__cause__)
    except DomainError as exc:  # who the claims name may not sign in
        return _refused(Refused(exc.code, 403), None)
    session[ID_TOKEN] = token.get("id_token")  # the hint for the provider's logout
    log.info("OpenID Connect sign-in accepted")
    return redirect("/", code=303)


def _refused(refusal: Refused, cause: BaseException | None):
    # The reason and the exception's class only: messages may quote tokens or claims.
    log.warning(
        "OpenID Connect sign-in refused: %s%s",
        refusal.reason,
        f" ({type(cause).__name__})" if cause else "",
    )
    _forget_attempts()
    return login_page(oidc_error=refusal.reason), refusal.status


def _forget_attempts() -> None:
    """Drop the state, nonce and verifier of unfinished sign-ins."""
    for key in [key for key in session if key.startswith(f"_state_{NAME}_")]:
        session.pop(key)


def end_session_url(id_token: str | None) -> str | None:
    """The provider's logout address back to our sign-in page, when it offers one."""
    registry = current_app.extensions.get("loadzone.oidc")
    if registry is None:
        return None
    client = registry.create_client(NAME)
    try:
        if not _metadata(client).get("end_session_endpoint"):
            return None
        return client.create_logout_url(
            post_logout_redirect_uri=_base() + "/login",
            id_token_hint=id_token,
            client_id=client.client_id,
        )["url"]
    except TROUBLE:
        return None  # the LoadZone session is over all the same


def init_app(app: Flask, settings) -> None:
    app.register_blueprint(bp)
    if not settings.oidc_issuer:
        return
    logging.getLogger("authlib").setLevel(logging.WARNING)  # its debug lines quote secrets
    registry = OAuth(app)
    registry.register(
        NAME,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "default_timeout": 10,
        },
    )
    app.extensions["loadzone.oidc"] = registry
