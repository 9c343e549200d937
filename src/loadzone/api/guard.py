"""Checks every /api request passes before its handler: JSON body, identity, CSRF."""

from __future__ import annotations

import json

from flask import Flask, request

from .. import auth
from ..errors import Invalid
from .errors import error_response

PUBLIC_ENDPOINTS = {"session.login", "openapi.spec", "docs.page"}
MAX_DEPTH = 32


def _depth(value, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _check_body():
    """Refuse non-JSON, malformed, non-UTF-8 or absurdly nested bodies before any parsing."""
    raw = request.get_data(cache=True)
    if not raw:
        return None
    if request.mimetype != "application/json":
        return error_response(415, "Send the body as JSON (Content-Type: application/json).")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return error_response(400, "The body is not valid UTF-8.", "invalid_json")
    except RecursionError:
        return error_response(400, "The JSON body is nested too deeply.", "invalid_json")
    except ValueError as exc:
        return error_response(400, f"The body is not valid JSON: {exc}", "invalid_json")
    if _depth(data) > MAX_DEPTH:
        return error_response(400, "The JSON body is nested too deeply.", "invalid_json")
    return None


def _guard():
    if not request.path.startswith("/api/"):
        return None
    if request.method in auth.UNSAFE_METHODS:
        refused = _check_body()
        if refused is not None:
            return refused
    if request.endpoint in PUBLIC_ENDPOINTS:
        auth.resolve()
        auth.check_origin()
        return None
    if request.endpoint is None:
        return None  # unknown path: let routing answer 404/405
    auth.require_actor()
    auth.check_csrf()
    return None


def init_app(app: Flask) -> None:
    app.before_request(_guard)


def bad_cursor() -> Invalid:
    return Invalid("The cursor is not one this API gave out.", "invalid_cursor")
