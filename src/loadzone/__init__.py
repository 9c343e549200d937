"""LoadZone: book, renew and release VMs from a shared pool."""

from __future__ import annotations

import logging

from apiflask import APIFlask

from loadzone.booking import queue
from loadzone.booking.policies import Rules
from loadzone.config import Settings, load_settings
from loadzone.core import events, logs, storage
from loadzone.errors import Unavailable
from loadzone.extensions import db
from loadzone.hooks import runs as hook_runs
from loadzone.identity import checked
from loadzone.inventory import board
from loadzone.notifications import channels, mailer, notices, outbox
from loadzone.web import (
    api,
    broadcast,
    extend_page,
    feeds,
    metrics,
    pages,
    ratelimit,
    realtime,
    requestids,
    security,
)
from loadzone.web import oidc as oidc_signin

__all__ = ["create_app"]


def _configure(app: APIFlask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=storage.engine_options(settings.database_url),
        VALIDATION_ERROR_STATUS_CODE=400,
        INFO={"description": "Book, renew and release VMs from a shared pool."},
        SECURITY_SCHEMES={
            "cookie": {"type": "apiKey", "in": "cookie", "name": "loadzone_session"},
            "token": {"type": "http", "scheme": "bearer"},
        },
    )
    app.extensions["loadzone.settings"] = settings
    app.extensions["loadzone.rules"] = Rules(
        max_hours=settings.max_hours,
        max_active_bookings=settings.max_active_bookings,
        warning_minutes=settings.warning_minutes,
        reserve_days=settings.reserve_days,
        max_hours_per_week=settings.max_hours_per_week,
        max_waiting=settings.max_waiting,
    )


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> APIFlask:
    """Build the app: configuration, storage, API and pages. Nothing runs in the background."""
    settings = settings or load_settings()
    app = APIFlask(
        __name__,
        title="LoadZone",
        version="1.0",
        spec_path="/api/openapi.json",
        docs_path=None,
        instance_path=str(settings.instance_path),
    )
    _configure(app, settings)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logs.configure(settings.log_format)
    db.init_app(app)
    with app.app_context():
        storage.configure_engine(db.engine)
    events.init_app(app)
    board.init_app(app)
    checked.init_app(app)
    # Translators run in this order: objects for the browsers first, then notifications.
    events.translate(app, queue.translate)  # may grant, so before the others
    events.translate(app, hook_runs.translate)  # book hooks of what was granted too
    events.translate(app, broadcast.translate)
    events.translate(app, notices.translate)
    requestids.init_app(app)
    metrics.init_app(app, settings)
    ratelimit.init_app(app, settings)
    mailer.init_app(app, settings)
    security.init_app(app, settings)
    realtime.init_app(app, settings)
    channels.init_app(app, settings)
    api.init_app(app)
    pages.init_app(app)
    feeds.init_app(app)
    extend_page.init_app(app)
    oidc_signin.init_app(app, settings)

    @app.get("/healthz")
    @app.doc(hide=True)
    def healthz():
        problem = storage.health()
        if problem:
            raise Unavailable(f"Database writes are failing lately: {problem}.", problem)
        # E-mails and webhook posts that gave up: GET /api/deliveries?state=failed lists them.
        return {"status": "ok", "deliveries_failed": outbox.failed_count()}

    if migrate:
        storage.upgrade(app)
    return app
