"""People: e-mail checks, sign-in links and personal API tokens (stored only as hashes)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update

from loadzone.core import sequence
from loadzone.errors import Invalid, NotAllowed, NotFound
from loadzone.extensions import db
from loadzone.inventory import catalog
from loadzone.models import ApiToken, LoginLink, User

LINK_LIFETIME = timedelta(minutes=15)
TOKEN_PREFIX = "lz_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_email(raw: str, allowed_domains: tuple[str, ...] = ()) -> str:
    """A lower-cased, syntactically valid address from an allowed domain."""
    try:
        email = validate_email((raw or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(f"That is not a valid e-mail address: {exc}", "invalid_email") from exc
    email = email.lower()
    if allowed_domains and email.rsplit("@", 1)[1] not in allowed_domains:
        raise NotAllowed(
            "Sign-in is limited to addresses at " + ", ".join(allowed_domains) + ".",
            "domain_not_allowed",
        )
    return email


def sign_in(email: str, now: datetime) -> User:
    """The person's account, created on first sign-in."""
    return catalog.ensure_user(email, now)


def end_sessions(email: str) -> None:
    """Invalidate every browser session of the person."""
    db.session.execute(
        update(User).where(User.email == email).values(session_epoch=User.session_epoch + 1)
    )
    sequence.credentials_changed(db.session)


def create_login_link(email: str, now: datetime) -> str:
    """A single-use secret for a sign-in link, valid 15 minutes."""
    secret = secrets.token_urlsafe(32)
    db.session.add(
        LoginLink(token_hash=digest(secret), email=email, expires_at=now + LINK_LIFETIME)
    )
    return secret


def consume_login_link(secret: str, now: datetime) -> str:
    """Use up a sign-in link and return its address; refuse unknown, used or expired links."""
    link = db.session.get(LoginLink, digest(secret or ""))
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise NotAllowed("This sign-in link is invalid, used or expired.", "invalid_link")
    claimed = db.session.execute(
        update(LoginLink)
        .where(LoginLink.token_hash == link.token_hash, LoginLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise NotAllowed("This sign-in link is invalid, used or expired.", "invalid_link")
    return link.email


def create_token(email: str, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A new personal API token; the secret is returned once and only its hash is kept."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise Invalid("A token name is 1-100 characters.", "invalid_name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=email, name=name, token_hash=digest(secret), created_at=now)
    db.session.add(token)
    db.session.flush()
    return token, secret


def list_tokens(email: str) -> list[ApiToken]:
    return list(
        db.session.scalars(select(ApiToken).where(ApiToken.user == email).order_by(ApiToken.id))
    )


def revoke_token(email: str, token_id: int) -> None:
    """Delete one of the person's own tokens; another person's is reported as missing."""
    token = db.session.get(ApiToken, token_id) if 0 < token_id <= catalog.MAX_ID else None
    if token is None or token.user != email:
        raise NotFound(f"There is no token {token_id}.", "token_not_found")
    db.session.delete(token)
    sequence.credentials_changed(db.session)


def user_for_token(secret: str) -> str | None:
    """The e-mail a bearer token belongs to, or None."""
    return db.session.scalar(select(ApiToken.user).where(ApiToken.token_hash == digest(secret)))
