"""Settings from LOADZONE_* environment variables (and a .env file), with defaults."""

from __future__ import annotations

import os
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

PREFIX = "LOADZONE_"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(PREFIX + name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SystemExit(f"{PREFIX}{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise SystemExit(f"{PREFIX}{name} must be at least {minimum}, got {value}")
    return value


def _seconds(name: str, default: float, zero: bool = False) -> float:
    """A number of seconds, fractions allowed (tests run fast); `zero` also allows 0 (off)."""
    raw = _env(name)
    try:
        value = default if raw is None else float(raw)
    except ValueError as exc:
        raise SystemExit(f"{PREFIX}{name} must be a number of seconds, got {raw!r}") from exc
    lowest_ok = value >= 0 if zero else value > 0
    if not lowest_ok or value >= 10**7:
        wanted = "0 or more" if zero else "a positive number of"
        raise SystemExit(f"{PREFIX}{name} must be {wanted} seconds, got {raw!r}")
    return value


def _command(name: str) -> tuple[str, ...]:
    """A hook command line, split like a shell would (no shell runs it); empty: no hook."""
    raw = _env(name)
    try:
        return tuple(shlex.split(raw)) if raw else ()
    except ValueError as exc:
        raise SystemExit(f"{PREFIX}{name} is not a valid command line: {exc}") from exc


def _choice(name: str, options: tuple[str, ...]) -> str:
    value = (_env(name, options[0]) or options[0]).lower()
    if value not in options:
        raise SystemExit(f"{PREFIX}{name} must be one of {', '.join(options)}, got {value!r}")
    return value


def _list(name: str) -> tuple[str, ...]:
    raw = _env(name, "") or ""
    return tuple(sorted({part.strip().lower() for part in raw.split(",") if part.strip()}))


def database_url(raw: str | None, instance: Path) -> str:
    """Turn a pasted URL into one SQLAlchemy understands; default to SQLite in the instance."""
    if not raw:
        return f"sqlite:///{instance / 'loadzone.db'}"
    for plain in ("postgresql://", "postgres://"):
        if raw.startswith(plain):
            return "postgresql+psycopg://" + raw[len(plain) :]
    return raw


def _secret_key(instance: Path) -> str:
    """Use LOADZONE_SECRET_KEY or a key generated once and kept in the instance folder."""
    configured = _env("SECRET_KEY")
    if configured:
        return configured
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class Settings:
    """Everything configurable, read once when the app is built."""

    instance_path: Path
    database_url: str
    secret_key: str
    auth_mode: str = "link"
    admins: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    smtp_url: str | None = None
    mail_from: str = "LoadZone <loadzone@localhost>"
    webhook_url: str | None = None
    warning_minutes: int = 60
    max_hours: int = 24
    max_active_bookings: int = 0
    reserve_days: int = 30
    max_hours_per_week: int = 0
    max_waiting: int = 5
    redis_url: str | None = None
    redis_channel: str = "loadzone"
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 5000
    threads: int = 1000
    worker: str = "gthread"
    rate_limit: bool = True
    login_limit: str = "10/minute;50/hour"
    client_login_limit: str = "30/minute"
    write_limit: str = "120/minute"
    sweep_seconds: int = 10
    proxy_hops: int = 0
    hook_release: tuple[str, ...] = ()
    hook_book: tuple[str, ...] = ()
    hook_timeout: float = 600.0
    hook_workers: int = 4
    # TCP health probes of VM addresses every this many seconds; 0 turns them off.
    health_seconds: float = 0.0
    # Deliveries (e-mail, webhook) are retried with back-off for this long, then failed.
    delivery_hours: int = 24
    # Serving processes of `loadzone run`; more than one needs Redis (docs/performance.md).
    workers: int = 1
    webhook_format: str = "json"  # json | teams
    # OpenID Connect sign-in: on when an issuer is set (beside `link`/`open`, or alone in
    # `oidc` mode). The admin group is looked up in the claim `oidc_groups_claim` (a dotted
    # path such as realm_access.roles works too).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid email profile"
    oidc_admin_group: str | None = None
    oidc_groups_claim: str = "groups"
    oidc_label: str = ""
    # Operations: /metrics (off | on, with a bearer token when set) and the log line format.
    metrics: str = "off"
    metrics_token: str | None = None
    log_format: str = "text"  # text | json

    @property
    def secure_cookies(self) -> bool:
        return bool(self.public_url and self.public_url.startswith("https://"))


def load_settings(instance_path: str | os.PathLike | None = None, **overrides) -> Settings:
    """Read the environment (after .env) into Settings; keyword overrides win."""
    load_dotenv(os.environ.get(PREFIX + "ENV_FILE", ".env"), override=False)
    instance = Path(instance_path or _env("INSTANCE_PATH") or Path.cwd() / "instance").resolve()
    instance.mkdir(parents=True, exist_ok=True)
    auth_mode = _choice("AUTH_MODE", ("link", "open", "oidc"))
    values = dict(
        instance_path=instance,
        database_url=database_url(_env("DATABASE_URL"), instance),
        secret_key=_secret_key(instance),
        auth_mode=auth_mode,
        admins=_list("ADMINS"),
        allowed_domains=_list("ALLOWED_DOMAINS"),
        smtp_url=_env("SMTP_URL"),
        mail_from=_env("MAIL_FROM", "LoadZone <loadzone@localhost>"),
        webhook_url=_env("WEBHOOK_URL"),
        warning_minutes=_int("WARNING_MINUTES", 60, 1),
        max_hours=_int("MAX_HOURS", 24, 1),
        max_active_bookings=_int("MAX_ACTIVE_BOOKINGS", 0),
        reserve_days=_int("RESERVE_DAYS", 30, 1),
        max_hours_per_week=_int("MAX_HOURS_PER_WEEK", 0),
        max_waiting=_int("MAX_WAITING", 5, 1),
        redis_url=_env("REDIS_URL"),
        redis_channel=_env("REDIS_CHANNEL", "loadzone"),
        public_url=(_env("PUBLIC_URL") or "").rstrip("/") or None,
        host=_env("HOST", "127.0.0.1"),
        port=_int("PORT", 5000, 0),
        threads=_int("THREADS", 1000, 4),
        worker=_choice("WORKER", ("gthread", "gevent")),
        rate_limit=(_env("RATE_LIMIT", "on") or "on").lower() not in ("off", "0", "false", "no"),
        login_limit=_env("LOGIN_LIMIT", "10/minute;50/hour"),
        client_login_limit=_env("CLIENT_LOGIN_LIMIT", "30/minute"),
        write_limit=_env("WRITE_LIMIT", "120/minute"),
        sweep_seconds=_int("SWEEP_SECONDS", 10, 1),
        proxy_hops=_int("PROXY_HOPS", 0),
        hook_release=_command("HOOK_RELEASE"),
        hook_book=_command("HOOK_BOOK"),
        hook_timeout=_seconds("HOOK_TIMEOUT", 600.0),
        hook_workers=_int("HOOK_WORKERS", 4, 1),
        health_seconds=_seconds("HEALTH_SECONDS", 0.0, zero=True),
        delivery_hours=_int("DELIVERY_HOURS", 24, 1),
        webhook_format=_choice("WEBHOOK_FORMAT", ("json", "teams")),
        workers=_int("WORKERS", 1, 1),
    )
    values.update(_oidc(auth_mode))
    values.update(
        metrics=_choice("METRICS", ("off", "on")),
        metrics_token=_env("METRICS_TOKEN"),
        log_format=_choice("LOG_FORMAT", ("text", "json")),
    )
    values.update(overrides)
    return Settings(**values)


def _oidc(auth_mode: str) -> dict:
    """The OpenID Connect block; `oidc` mode without an issuer and a client id cannot start."""
    issuer = (_env("OIDC_ISSUER") or "").rstrip("/") or None
    client_id = _env("OIDC_CLIENT_ID")
    if (auth_mode == "oidc" or issuer) and not (issuer and client_id):
        raise SystemExit(f"{PREFIX}OIDC_ISSUER and {PREFIX}OIDC_CLIENT_ID are both needed")
    return dict(
        oidc_issuer=issuer,
        oidc_client_id=client_id,
        oidc_client_secret=_env("OIDC_CLIENT_SECRET"),
        oidc_scopes=_env("OIDC_SCOPES", "openid email profile"),
        oidc_admin_group=_env("OIDC_ADMIN_GROUP"),
        oidc_groups_claim=_env("OIDC_GROUPS_CLAIM", "groups"),
        oidc_label=_env("OIDC_LABEL", ""),
    )
