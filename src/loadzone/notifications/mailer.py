"""Mail settings for Flask-Mailman, and the in-memory outbox of sign-in links.

Notification mail goes through the durable outbox (`outbox.py`, `courier.py`); a sign-in
link is valid for 15 minutes only, so it is sent from memory, off the request path.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote, urlsplit

from flask import Flask
from flask_mailman import EmailMessage

from loadzone.extensions import mail

log = logging.getLogger(__name__)
RETRY_DELAYS = (1, 4, 15)


def smtp_config(url: str) -> dict:
    """MAIL_* settings from smtp://user:pass@host:port (smtps:// for TLS, ?starttls=1)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise SystemExit("LOADZONE_SMTP_URL must start with smtp:// or smtps://")
    return {
        "MAIL_SERVER": parts.hostname or "localhost",
        "MAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "MAIL_USERNAME": unquote(parts.username) if parts.username else None,
        "MAIL_PASSWORD": unquote(parts.password) if parts.password else None,
        "MAIL_USE_SSL": parts.scheme == "smtps",
        "MAIL_USE_TLS": "starttls=1" in (parts.query or ""),
        "MAIL_TIMEOUT": 10,
    }


class Outbox:
    """A small pool that delivers mail in the background and retries with back-off."""

    def __init__(self, app: Flask):
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")
        self.closing = threading.Event()

    def send(self, to: str, subject: str, body: str) -> None:
        self.pool.submit(self._deliver, to, subject, body)

    def _deliver(self, to: str, subject: str, body: str) -> None:
        for attempt, delay in enumerate((0, *RETRY_DELAYS)):
            if self.closing.wait(delay):
                return
            try:
                with self.app.app_context():
                    EmailMessage(subject, body, self.app.config["MAIL_DEFAULT_SENDER"], [to]).send()
                return
            except Exception as exc:  # network trouble of any kind: retry, then log
                log.warning("mail to %s failed (attempt %d): %s", to, attempt + 1, exc)
        log.error("giving up on mail to %s: %s", to, subject)

    def close(self) -> None:
        """Stop retrying and drop what is queued (used when an app is torn down)."""
        self.closing.set()
        self.pool.shutdown(wait=False, cancel_futures=True)


def init_app(app: Flask, settings) -> None:
    """Configure mail when LOADZONE_SMTP_URL is set; otherwise there is no outbox."""
    if not settings.smtp_url:
        app.extensions["loadzone.outbox"] = None
        return
    app.config.update(smtp_config(settings.smtp_url))
    app.config["MAIL_DEFAULT_SENDER"] = settings.mail_from
    mail.init_app(app)
    app.extensions["loadzone.outbox"] = Outbox(app)


def outbox(app: Flask) -> Outbox | None:
    return app.extensions.get("loadzone.outbox")
