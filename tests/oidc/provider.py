"""A small OpenID Connect provider for the tests, built on Authlib's server components.

    python -m tests.oidc.provider PORT CONFIG.json

CONFIG: {"client_id", "client_secret", "users": {name: {"password", "email",
"email_verified", "groups"}}}. Authlib's AuthorizationServer, AuthorizationCodeGrant,
CodeChallenge (PKCE, required) and OpenIDCode issue and check codes and sign ID tokens
(RS256); this module only stores codes in memory and shows a password form. It keeps its
own login session (cookie `idp_session`) like a real provider; /logout ends it.
"""

from __future__ import annotations

import hmac
import json
import re
import sys
import time
from dataclasses import dataclass

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, redirect, render_template_string, request, session
from joserfc.jwk import RSAKey

CALLBACK = re.compile(r"http://127\.0\.0\.1:\d+/auth/oidc/callback")
BACK_HOME = re.compile(r"http://127\.0\.0\.1:\d+/login")
SCOPES = ("openid", "email", "profile", "groups")
FORM = """<!doctype html><title>Test IdP</title>
<h1>Test identity provider</h1>{% if error %}<p id="idp-error">{{ error }}</p>{% endif %}
<form method="post"><input name="username" id="idp-username" autocomplete="off">
<input name="password" id="idp-password" type="password"><button id="idp-submit">Log in</button>
</form>"""


class Client(ClientMixin):
    def __init__(self, client_id: str, secret: str):
        self.client_id, self.secret = client_id, secret

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return bool(CALLBACK.fullmatch(redirect_uri or ""))

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(client_secret or "", self.secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


CODES: dict[str, Code] = {}


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, request):
        data = request.payload.data
        CODES[code] = Code(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            user=request.user,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=int(time.time()),
        )

    def query_authorization_code(self, code, client):
        found = CODES.get(code)
        return found if found and found.client_id == client.get_client_id() else None

    def delete_authorization_code(self, authorization_code):
        CODES.pop(authorization_code.code, None)  # a code works once

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class OpenID(OpenIDCode):
    def __init__(self, issuer: str, key: RSAKey):
        super().__init__(require_nonce=True)
        self.issuer, self.key = issuer, key

    def exists_nonce(self, nonce, request):
        return any(code.nonce == nonce for code in CODES.values())

    def resolve_client_private_key(self, client):
        return self.key

    def get_client_algorithm(self, client):
        return "RS256"

    def get_client_claims(self, client):
        return {"iss": self.issuer, "aud": [client.get_client_id()]}

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": self.key.kid}

    def generate_user_info(self, user, scope):
        info = UserInfo(sub=user["name"], name=user["name"])
        if "email" in scope.split():
            info["email"] = user["email"]
            info["email_verified"] = user.get("email_verified", True)
        info["groups"] = user.get("groups", [])
        return info


def create(port: int, config: dict) -> Flask:
    issuer = f"http://127.0.0.1:{port}"
    key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"}, private=True)
    client = Client(config["client_id"], config["client_secret"])
    users = {name: {"name": name, **user} for name, user in config["users"].items()}
    app = Flask(__name__)
    app.config.update(SECRET_KEY="idp-test-secret", SESSION_COOKIE_NAME="idp_session")
    server = AuthorizationServer(
        app,
        query_client=lambda cid: client if cid == client.client_id else None,
        save_token=lambda token, req: None,
    )
    server.register_grant(CodeGrant, [CodeChallenge(required=True), OpenID(issuer, key)])

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return {
            "issuer": issuer,
            "authorization_endpoint": issuer + "/authorize",
            "token_endpoint": issuer + "/token",
            "jwks_uri": issuer + "/jwks",
            "end_session_endpoint": issuer + "/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": CodeGrant.TOKEN_ENDPOINT_AUTH_METHODS,
        }

    @app.get("/favicon.ico")
    def favicon():
        return "", 204  # keeps the browser's console free of a 404

    @app.get("/jwks")
    def jwks():
        return {"keys": [key.as_dict(private=False)]}

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        user = users.get(session.get("user", ""))
        if request.method == "POST":
            user = users.get(request.form.get("username", ""))
            if user is None or request.form.get("password") != user["password"]:
                return render_template_string(FORM, error="Wrong name or password"), 401
            session["user"] = user["name"]
        if user is None:
            try:
                server.get_consent_grant(end_user=None)  # a bad request fails before the form
            except OAuth2Error as error:
                return {"error": error.error}, 400
            return render_template_string(FORM, error=None)
        return server.create_authorization_response(grant_user=user)

    @app.post("/token")
    def token():
        return server.create_token_response()

    @app.get("/logout")
    def logout():
        session.clear()
        target = request.args.get("post_logout_redirect_uri", "")
        if BACK_HOME.fullmatch(target):
            return redirect(target)
        return "Signed out of the test identity provider."

    return app


if __name__ == "__main__":
    port = int(sys.argv[1])
    with open(sys.argv[2]) as handle:
        settings = json.load(handle)
    create(port, settings).run(host="127.0.0.1", port=port, threaded=True)
