"""Where `lz` finds its server and token, and the knobs of its patience."""

from __future__ import annotations

import math
import os

from loadzone_client.api import Api, Retries
from loadzone_client.errors import UsageError


def _env_number(name: str, default: float, low: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = low - 1
    if not (math.isfinite(value) and value >= low):
        raise UsageError(f"{name} must be a number of at least {low:g}.")
    return value


def connect(args) -> Api:
    """The server from --url/--token or LOADZONE_URL/LOADZONE_TOKEN; retries from the env."""
    url = (getattr(args, "url", None) or os.environ.get("LOADZONE_URL", "")).strip()
    token = (getattr(args, "token", None) or os.environ.get("LOADZONE_TOKEN", "")).strip()
    if not url:
        raise UsageError("Set LOADZONE_URL or give --url.")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"The URL {url!r} must start with http:// or https://.")
    if not token:
        raise UsageError("Set LOADZONE_TOKEN or give --token (a personal token from the web UI).")
    attempts = int(_env_number("LOADZONE_RETRIES", 4, 1))
    retries = Retries(attempts, _env_number("LOADZONE_RETRY_DELAY", 1.0, 0))
    return Api(url, token, retries)


def poll_seconds() -> float:
    """Seconds between two looks at a waiting request."""
    return _env_number("LOADZONE_POLL_SECONDS", 2.0, 0.05)
