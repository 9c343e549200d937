"""Checks every /api request passes before its handler: JSON body, identity, CSRF."""

from __future__ import annotations

import json

from flask import Flask, request
from gunicorn.http.errors import ParseException

from loadzone.identity import auth
from loadzone.web.api.errors import error_response

PUBLIC_ENDPOINTS = {"session.login", "openapi.spec", "docs.page"}
MAX_DEPTH = 32


def _storable(text: str) -> bool:
    """No NUL and no lone surrogate: valid in JSON, but no database accepts them."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _problem(value, level: int = 0) -> tuple[str, str] | None:
    """(code, message) when a parsed body is too deep or holds text that cannot be stored."""
    if isinstance(value, str):
        if _storable(value):
            return None
        return "invalid_input", "Text may not contain NUL characters or lone surrogates."
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        children = value
    else:
        return None
    if level >= MAX_DEPTH:
        return "invalid_json", "The JSON body is nested too deeply."
    for child in children:
        problem = _problem(child, level + 1)
        if problem:
            return problem
    return None


def _bad_url() -> bool:
    """A NUL in the path or the query string, which no database column can hold."""
    query = (value for pair in request.args.lists() for value in (pair[0], *pair[1]))
    return "\x00" in request.path or any("\x00" in value for value in query)


def _check_body():
    """Refuse non-JSON, malformed, non-UTF-8, unstorable or absurdly nested bodies early."""
    try:
        raw = request.get_data(cache=True)
    except (OSError, ParseException):  # a body the server cannot read, e.g. a malformed chunk
        return error_response(400, "The request body could not be read.", "invalid_body")
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
    problem = _problem(data)
    if problem:
        return error_response(400, problem[1], problem[0])
    return None


def _guard():
    if not request.path.startswith("/api/"):
        return None
    if _bad_url():
        return error_response(400, "The address may not contain NUL characters.")
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
