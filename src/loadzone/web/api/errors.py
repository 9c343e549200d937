"""The one JSON error shape, produced here for every failure under /api."""

from __future__ import annotations

import logging
import time

from apiflask import APIFlask, HTTPError, Schema, fields
from flask import jsonify, request
from flask_limiter import RateLimitExceeded
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from loadzone.core import storage
from loadzone.errors import DomainError
from loadzone.web.ratelimit import limiter

log = logging.getLogger(__name__)

CODES = {
    400: "invalid_input",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
    507: "storage_full",
}


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"description": "A stable slug to test on"})
    message = fields.String(required=True, metadata={"description": "Human text"})


class ErrorOut(Schema):
    """What every failure under /api answers (the OpenAPI document says so too)."""

    error = fields.Nested(ErrorDetail, required=True)


def error_response(status: int, message: str, code: str | None = None, headers=None):
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message}}
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten(detail, prefix: str = "") -> list[str]:
    """marshmallow's nested messages as 'field: problem' lines."""
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            name = "" if key in ("json", "query", "_schema") else str(key)
            joined = f"{prefix}.{name}" if prefix and name else (name or prefix)
            lines += _flatten(value, joined)
        return lines
    if isinstance(detail, list):
        return [line for item in detail for line in _flatten(item, prefix)]
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def _from_http_error(error: HTTPError):
    extra = error.extra_data or {}
    message = error.message or ""
    if error.detail:
        message = "; ".join(_flatten(error.detail)) or message
    return error_response(error.status_code, message, extra.get("code"), error.headers)


def init_app(app: APIFlask) -> None:
    app.config.update(HTTP_ERROR_SCHEMA=ErrorOut, VALIDATION_ERROR_SCHEMA=ErrorOut)
    app.error_processor(_from_http_error)

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        return error_response(error.status, error.message, error.code)

    @app.errorhandler(IntegrityError)
    def _integrity(error):
        log.warning("integrity error: %s", error.orig)
        return error_response(409, "That conflicts with the current state; reload and retry.")

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def _database_down(error):
        log.error("database error: %s", error.__class__.__name__, exc_info=error)
        problem = storage.storage_problem(error)
        if problem == storage.FULL:
            return error_response(
                507,
                "The database's disk is full; nothing was changed. Try again later.",
                problem,
                {"Retry-After": "30"},
            )
        if problem == storage.UNWRITABLE:
            return error_response(
                503,
                "The database cannot write to its disk (read-only or failing); "
                "nothing was changed. Try again later.",
                problem,
                {"Retry-After": "30"},
            )
        return error_response(
            503,
            "The database is not answering; try again shortly.",
            "database_unavailable",
            {"Retry-After": "5"},
        )

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(error: RateLimitExceeded):
        current = limiter.current_limit
        wait = max(1, int(current.reset_at - time.time())) if current else 60
        return error_response(
            429,
            f"Too many requests (limit: {error.description}); try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if not _wants_json():
            return error  # pages get Flask's plain HTML error page
        return error_response(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unexpected error")
        if not _wants_json():
            return InternalServerError()
        return error_response(500, "Something went wrong on our side; it has been logged.")


def _wants_json() -> bool:
    """The API and the health check answer in JSON; pages answer in HTML."""
    return request.path.startswith("/api/") or request.path == "/healthz"
