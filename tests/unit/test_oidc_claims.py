"""Who verified OpenID Connect claims name: e-mail, verification, domain, admin group."""

from __future__ import annotations

import pytest

from loadzone.config import load_settings
from loadzone.errors import DomainError
from loadzone.identity import oidc


@pytest.fixture
def settings(tmp_path):
    return load_settings(
        tmp_path,
        allowed_domains=("example.com",),
        oidc_admin_group="lz-admins",
        oidc_groups_claim="realm_access.roles",
    )


def test_verified_email_of_an_allowed_domain(settings):
    claims = {"email": " Ann@Example.COM ", "email_verified": "true"}
    assert oidc.identify(claims, settings) == oidc.Claimed("ann@example.com", False)


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"email_verified": True}, "no_email"),
        ({"email": ["a@example.com"], "email_verified": True}, "no_email"),
        ({"email": "a@example.com"}, "email_not_verified"),
        ({"email": "a@example.com", "email_verified": "false"}, "email_not_verified"),
        ({"email": "a@elsewhere.org", "email_verified": True}, "domain_not_allowed"),
        ({"email": "not an address", "email_verified": True}, "invalid_email"),
    ],
)
def test_refusals(settings, claims, code):
    with pytest.raises(DomainError) as refused:
        oidc.identify(claims, settings)
    assert refused.value.code == code


def test_admin_group_by_dotted_path_or_plain_claim():
    assert oidc.in_group({"realm_access": {"roles": ["x", "lz"]}}, "realm_access.roles", "lz")
    assert oidc.in_group({"groups": "lz"}, "groups", "lz")
    assert not oidc.in_group({"groups": ["lz-admins-not"]}, "groups", "lz")
    assert not oidc.in_group({"groups": {"lz": True}}, "groups", "lz")
    assert not oidc.in_group({"groups": ["lz"]}, "groups", None)


def test_oidc_mode_needs_an_issuer_and_a_client(tmp_path, monkeypatch):
    monkeypatch.setenv("LOADZONE_AUTH_MODE", "oidc")
    with pytest.raises(SystemExit, match="OIDC_ISSUER and LOADZONE_OIDC_CLIENT_ID"):
        load_settings(tmp_path)
    monkeypatch.setenv("LOADZONE_OIDC_ISSUER", "https://sso.example.com/realms/x/")
    monkeypatch.setenv("LOADZONE_OIDC_CLIENT_ID", "loadzone")
    settings = load_settings(tmp_path)
    assert settings.oidc_issuer == "https://sso.example.com/realms/x"
    assert settings.oidc_groups_claim == "groups" and settings.oidc_admin_group is None
