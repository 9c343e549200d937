"""The test identity provider in its own process, and a sign-in through it with requests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from tests import waiting
from tests.conftest import ROOT, free_port

CLIENT_ID = "loadzone"
CLIENT_SECRET = "client-secret-for-tests"
ADMIN_GROUP = "loadzone-admins"
PASSWORD = "correct horse"
USERS = {
    "alice": {"email": "Alice@Example.com", "email_verified": True, "groups": ["staff"]},
    "boss": {"email": "boss@example.com", "email_verified": True, "groups": [ADMIN_GROUP]},
    "mallory": {"email": "mallory@example.com", "email_verified": False},
    "eve": {"email": "eve@elsewhere.org", "email_verified": True},
    "odd": {"email": "not an address", "email_verified": True},
}


class Provider:
    """tests/oidc/provider.py on a free loopback port."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / f"idp-{self.port}.json"
        self.log = folder / f"idp-{self.port}.log"
        users = {name: {"password": PASSWORD, **user} for name, user in USERS.items()}
        self.config.write_text(
            json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "users": users})
        )
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> Provider:
        handle = open(self.log, "ab")  # noqa: SIM115 - lives as long as the process
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
        # Flask's CLI, run in-process by other tests, leaves this behind; with it app.run()
        # in the provider returns at once instead of serving.
        env.pop("FLASK_RUN_FROM_CLI", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc.provider", str(self.port), str(self.config)],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        discovery = self.url + "/.well-known/openid-configuration"
        waiting.until_answers(self.proc, discovery, self.log, timeout)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def settings(self, **extra) -> dict:
        """Server settings (lower-case LOADZONE_* names) for signing in through this provider."""
        return {
            "oidc_issuer": self.url,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_admin_group": ADMIN_GROUP,
            **extra,
        }


def log_in(client: requests.Session, form: requests.Response, user: str) -> requests.Response:
    """Fill in the provider's password form (its URL carries the authorization request)."""
    assert form.status_code == 200 and 'id="idp-password"' in form.text, form.text[:500]
    return client.post(form.url, data={"username": user, "password": PASSWORD}, timeout=10)


def sign_in(base_url: str, user: str, client: requests.Session | None = None):
    """The whole flow with redirects followed; returns (session, last response)."""
    client = client or requests.Session()
    form = client.get(base_url + "/auth/oidc/start", timeout=10)
    return client, log_in(client, form, user)
