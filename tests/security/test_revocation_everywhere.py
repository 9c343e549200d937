"""A revoked token and an ended session stop working at the very next request on every
instance, although each instance keeps what it checked a moment ago (identity/checked.py)."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import api_session

pytestmark = pytest.mark.server
ALICE = "alice@example.com"


@pytest.fixture
def pair(server_factory):
    return server_factory(), server_factory()


def as_token(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_revoked_token_is_refused_at_once_on_the_other_instance(pair):
    first, second = pair
    alice = api_session(first.url, ALICE)
    spare = alice.post(f"{first.url}/api/me/tokens", json={"name": "spare"}).json()["token"]
    for server in pair:  # both have just accepted it, so both hold the answer
        assert alice.get(f"{server.url}/api/vms", timeout=10).status_code == 200
    token_id = next(
        t["id"] for t in alice.get(f"{first.url}/api/me/tokens").json() if t["name"] == "tests"
    )

    answer = requests.delete(
        f"{first.url}/api/me/tokens/{token_id}", headers=as_token(spare), timeout=10
    )
    assert answer.status_code == 200, answer.text
    for server in pair:
        refused = alice.get(f"{server.url}/api/vms", timeout=10)
        assert refused.status_code == 401, (server.url, refused.text)
        assert refused.json()["error"]["code"] == "bad_token"
    # Another token of the same person goes on working everywhere.
    for server in pair:
        assert requests.get(f"{server.url}/api/vms", headers=as_token(spare), timeout=10).ok


def test_a_sign_out_ends_the_session_at_once_on_the_other_instance(pair):
    first, second = pair
    browser = requests.Session()
    assert browser.post(f"{first.url}/api/auth/login", json={"email": ALICE}).status_code == 200
    for server in pair:
        assert browser.get(f"{server.url}/api/me", timeout=10).status_code == 200
    # A sign-out elsewhere (another browser of Alice's) ends every session of hers.
    other = requests.Session()
    assert other.post(f"{second.url}/api/auth/login", json={"email": ALICE}).status_code == 200
    assert other.post(f"{second.url}/api/auth/logout", json={}, timeout=10).status_code == 200

    for server in pair:
        assert browser.get(f"{server.url}/api/me", timeout=10).status_code == 401
