"""Who an OpenID Connect sign-in is: the verified e-mail claim, the domain rule, the admin group.

The claims come from an ID token that Authlib has already checked (signature, issuer,
audience, expiry, nonce); these rules decide whether that person may use LoadZone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from loadzone.errors import NotAllowed
from loadzone.identity import accounts
from loadzone.models import User


@dataclass(frozen=True)
class Claimed:
    email: str
    is_admin: bool


def _claim(claims: Mapping, path: str):
    """A claim by name, or by a dotted path into nested objects (realm_access.roles)."""
    value = claims.get(path)
    if value is None and "." in path:
        value = claims
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    return value


def in_group(claims: Mapping, claim: str, group: str | None) -> bool:
    """Whether the group (or role) claim lists `group`; a single string counts as a list of one."""
    if not group:
        return False
    value = _claim(claims, claim)
    if isinstance(value, str):
        value = [value]
    return isinstance(value, list) and group in value


def _verified(claims: Mapping) -> bool:
    # Some providers send the boolean as a string.
    return claims.get("email_verified") in (True, "true")


def identify(claims: Mapping, settings) -> Claimed:
    """The person behind verified claims; refuse a missing or unverified e-mail or other domain."""
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        raise NotAllowed("The identity provider did not send an e-mail address.", "no_email")
    if not _verified(claims):
        raise NotAllowed(
            "The e-mail address is not verified at the identity provider.", "email_not_verified"
        )
    email = accounts.normalise_email(email, settings.allowed_domains)
    admin = in_group(claims, settings.oidc_groups_claim, settings.oidc_admin_group)
    return Claimed(email=email, is_admin=admin)


def sign_in(person: Claimed, now: datetime) -> User:
    """The account, created on first sign-in; the admin flag follows the latest claims."""
    user = accounts.sign_in(person.email, now)
    user.idp_admin = person.is_admin
    return user
