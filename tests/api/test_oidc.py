"""OpenID Connect sign-in against a real provider process (Authlib's server components):
the flow, every refusal (state, code replay, nonce, unverified e-mail, domain), a provider
that is down or talks nonsense, the admin group and logout through the provider."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests

from tests.conftest import free_port
from tests.oidc.harness import Provider, sign_in


@pytest.fixture
def provider(tmp_path):
    idp = Provider(tmp_path / "idp").start()
    yield idp
    idp.stop()


@pytest.fixture
def oidc_server(server_factory, provider):
    return server_factory(auth_mode="oidc", **provider.settings())


def me(client: requests.Session, base: str) -> requests.Response:
    return client.get(base + "/api/me", timeout=10)


def to_callback(client, base: str, user: str, start: requests.Response | None = None) -> str:
    """Sign in at the provider, stopping before LoadZone's callback: its URL."""
    start = start or client.get(base + "/auth/oidc/start", timeout=10)
    form = client.get(start.headers["Location"], timeout=10) if start.is_redirect else start
    answer = client.post(
        form.url,
        data={"username": user, "password": "correct horse"},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:300]
    callback = answer.headers["Location"]
    assert callback.startswith(base + "/auth/oidc/callback?"), callback
    return callback


def refused(response: requests.Response, status: int, reason: str) -> str:
    """The sign-in page with the refusal's reason; no session."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    match = re.search(r'id="oidc-error" data-reason="([a-z_]+)">\s*([^<]+)<', response.text)
    assert match and match.group(1) == reason, response.text[:2000]
    assert 'id="oidc-sign-in"' in response.text  # one click to start again
    return match.group(2).strip()


def test_sign_in_end_to_end(oidc_server):
    client, page = sign_in(oidc_server.url, "alice")
    assert page.status_code == 200 and page.url == oidc_server.url + "/"
    who = me(client, oidc_server.url).json()
    assert who["email"] == "alice@example.com" and who["is_admin"] is False
    # Only the provider signs people in in `oidc` mode.
    answer = requests.post(
        oidc_server.url + "/api/auth/login", json={"email": "alice@example.com"}, timeout=10
    )
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "oidc_only"


def test_admin_by_group_claim(oidc_server):
    boss, _ = sign_in(oidc_server.url, "boss")
    alice, _ = sign_in(oidc_server.url, "alice")
    assert me(boss, oidc_server.url).json()["is_admin"] is True
    assert me(alice, oidc_server.url).json()["is_admin"] is False
    # The group is a LoadZone admin: it may add a VM; others may not (admins are configured).
    vm = {"id": "vm-oidc", "address": "10.0.0.9"}
    created = boss.post(oidc_server.url + "/api/vms", json=vm, timeout=10)
    assert created.status_code == 201, created.text
    vm["id"] = "vm-other"
    assert alice.post(oidc_server.url + "/api/vms", json=vm, timeout=10).status_code == 403


def test_forged_state_is_refused(oidc_server):
    client = requests.Session()
    client.get(oidc_server.url + "/auth/oidc/start", timeout=10)  # a real state in the cookie
    forged = client.get(
        oidc_server.url + "/auth/oidc/callback?state=forged&code=whatever", timeout=10
    )
    assert refused(forged, 400, "oidc_state").startswith("This sign-in attempt is unknown")
    assert me(client, oidc_server.url).status_code == 401
    bare = client.get(oidc_server.url + "/auth/oidc/callback", timeout=10)
    refused(bare, 400, "oidc_state")


def test_replayed_code_is_refused(oidc_server):
    client = requests.Session()
    callback = to_callback(client, oidc_server.url, "alice")
    assert client.get(callback, timeout=10).url == oidc_server.url + "/"
    # The same answer again: its state was used up.
    other = requests.Session()
    refused(other.get(callback, timeout=10), 400, "oidc_state")
    # The old code under a fresh, valid state: the provider refuses the second exchange.
    start = other.get(oidc_server.url + "/auth/oidc/start", timeout=10, allow_redirects=False)
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    old_code = parse_qs(urlsplit(callback).query)["code"][0]
    replay = other.get(
        oidc_server.url + "/auth/oidc/callback?" + urlencode({"state": state, "code": old_code}),
        timeout=10,
    )
    refused(replay, 400, "oidc_token")
    assert me(other, oidc_server.url).status_code == 401


def test_wrong_nonce_is_refused(oidc_server):
    client = requests.Session()
    start = client.get(oidc_server.url + "/auth/oidc/start", timeout=10, allow_redirects=False)
    parts = urlsplit(start.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["code_challenge_method"] == "S256" and query["nonce"]
    query["nonce"] = "not-the-nonce-loadzone-sent"  # altered on the way to the provider
    tampered = client.get(urlunsplit(parts._replace(query=urlencode(query))), timeout=10)
    callback = to_callback(client, oidc_server.url, "alice", start=tampered)
    refused(client.get(callback, timeout=10), 400, "oidc_token")
    assert me(client, oidc_server.url).status_code == 401


def test_unverified_email_is_refused_in_both_languages(oidc_server):
    _, page = sign_in(oidc_server.url, "mallory")
    message = refused(page, 403, "email_not_verified")
    assert message == "Your e-mail address is not verified at the identity provider."
    russian = requests.Session()
    russian.headers["Accept-Language"] = "ru"
    _, page = sign_in(oidc_server.url, "mallory", russian)
    assert "не подтверждён" in refused(page, 403, "email_not_verified")


def test_other_domain_is_refused(server_factory, provider):
    server = server_factory(auth_mode="oidc", allowed_domains="example.com", **provider.settings())
    client, page = sign_in(server.url, "eve")
    assert "example.com" in refused(page, 403, "domain_not_allowed")
    assert me(client, server.url).status_code == 401
    _, page = sign_in(server.url, "odd")
    assert "did not send your e-mail" in refused(page, 403, "invalid_email")
    assert sign_in(server.url, "alice")[1].url == server.url + "/"


def test_logout_ends_the_provider_session_too(oidc_server, provider):
    client, _ = sign_in(oidc_server.url, "alice")
    answer = client.post(oidc_server.url + "/api/auth/logout", json={}, timeout=10)
    redirect = answer.json()["redirect"]
    assert redirect.startswith(provider.url + "/logout?") and "id_token_hint=" in redirect
    assert client.get(redirect, timeout=10).url == oidc_server.url + "/login"
    assert me(client, oidc_server.url).status_code == 401
    # The provider asks for the password again: its own session ended as well.
    form = client.get(oidc_server.url + "/auth/oidc/start", timeout=10)
    assert 'id="idp-password"' in form.text


def _link_sign_in_still_works(server) -> None:
    client = requests.Session()
    sent = client.post(server.url + "/api/auth/login", json={"email": "bob@example.com"})
    assert sent.status_code == 202 and sent.json()["delivery"] == "console"
    link = re.findall(r"sign-in link for bob@example.com: (\S+)", server.log.read_text())[-1]
    assert client.get(link, timeout=10).url == server.url + "/"
    assert me(client, server.url).json()["email"] == "bob@example.com"


def test_provider_down_leaves_link_mode_working(server_factory):
    closed = f"http://127.0.0.1:{free_port()}"
    server = server_factory(
        auth_mode="link", oidc_issuer=closed, oidc_client_id="loadzone", oidc_client_secret="x"
    )
    login = requests.get(server.url + "/login", timeout=10).text
    assert 'id="oidc-sign-in"' in login and 'id="login-form"' in login  # offered beside
    refused(requests.get(server.url + "/auth/oidc/start", timeout=10), 502, "provider_unavailable")
    _link_sign_in_still_works(server)


class Nonsense(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html>certainly not JSON" if "well-known" in self.path else b"[1, 2"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_provider_answering_garbage_gets_a_clear_page(server_factory):
    nonsense = ThreadingHTTPServer(("127.0.0.1", 0), Nonsense)
    threading.Thread(target=nonsense.serve_forever, daemon=True).start()
    try:
        issuer = f"http://127.0.0.1:{nonsense.server_port}"
        server = server_factory(auth_mode="link", oidc_issuer=issuer, oidc_client_id="loadzone")
        page = requests.get(server.url + "/auth/oidc/start", timeout=10)
        refused(page, 502, "provider_unavailable")
        _link_sign_in_still_works(server)
    finally:
        nonsense.shutdown()
        nonsense.server_close()


def test_provider_gone_before_the_code_exchange(server_factory, provider):
    server = server_factory(auth_mode="link", **provider.settings())
    client = requests.Session()
    callback = to_callback(client, server.url, "alice")
    provider.stop()
    refused(client.get(callback, timeout=10), 502, "provider_unavailable")
    assert me(client, server.url).status_code == 401
    _link_sign_in_still_works(server)


def test_no_token_or_claim_reaches_the_log(oidc_server):
    client = requests.Session()
    callback = to_callback(client, oidc_server.url, "boss")
    client.get(callback, timeout=10)
    sign_in(oidc_server.url, "mallory")
    log = oidc_server.log.read_text()
    code = parse_qs(urlsplit(callback).query)["code"][0]
    for secret in (code, "boss@example.com", "mallory@example.com", "eyJ"):
        assert secret not in log
    assert "OpenID Connect sign-in refused: email_not_verified" in log
