"""The courier: a background thread (serving process only) that sends due deliveries.

It wakes after a commit that queued notifications and otherwise polls, so deliveries of
another instance, retries and rows left by a crash are sent too. Sending happens outside
any transaction: a row is claimed (committed), sent, then marked sent or rescheduled.
"""

from __future__ import annotations

import logging
import threading
from email.utils import parseaddr

import requests
from flask import Flask
from flask_mailman import EmailMessage

from loadzone.core import events
from loadzone.core.storage import transaction
from loadzone.core.timeutil import utcnow
from loadzone.extensions import db
from loadzone.notifications import channels, outbox

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0
# Connect and read timeouts: a hanging target costs the courier this much, never a request.
HTTP_TIMEOUT = (5, 10)


class Failure(Exception):
    """An attempt that failed; `final` when trying again cannot help."""

    def __init__(self, message: str, final: bool = False):
        super().__init__(message)
        self.final = final


class Courier:
    def __init__(self, app: Flask):
        self.app = app
        self.settings = app.extensions["loadzone.settings"]
        self.http = requests.Session()
        self.woken = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="courier", daemon=True)

    def start(self) -> Courier:
        events.subscribe(self.app, self._on_event)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.woken.set()

    def _on_event(self, event: events.Event) -> None:
        if event.name == "notification":
            self.woken.set()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.drain()
            except Exception:  # the database may be away for a while: poll again later
                log.exception("courier could not reach the database")
            self.woken.wait(POLL_SECONDS)
            self.woken.clear()

    def drain(self) -> int:
        """Send every delivery due now; returns how many attempts were made."""
        attempts = 0
        while not self.stopping.is_set():
            with self.app.app_context():
                try:
                    with transaction():
                        item = outbox.claim(utcnow())
                    if item is None:
                        return attempts
                    self._attempt(item)
                finally:
                    db.session.remove()
            attempts += 1
        return attempts

    def _attempt(self, item: outbox.Claimed) -> None:
        try:
            self._send(item)
        except Failure as failure:
            with transaction():
                state = outbox.retry_or_fail(item, str(failure), utcnow(), failure.final)
            log.warning(
                "delivery %s (%s) attempt %d: %s; now %s",
                item.id,
                item.channel,
                item.attempts,
                failure,
                state,
            )
            return
        with transaction():
            outbox.sent(item, utcnow())

    def _send(self, item: outbox.Claimed) -> None:
        if item.channel == "webhook":
            self._post(item)
        else:
            self._mail(item)

    def _post(self, item: outbox.Claimed) -> None:
        body = channels.webhook_body(item.payload, self.settings.webhook_format)
        headers = {"Idempotency-Key": item.key}
        try:
            response = self.http.post(item.target, json=body, headers=headers, timeout=HTTP_TIMEOUT)
        except requests.RequestException as exc:
            raise Failure(f"webhook unreachable: {exc}") from exc
        status = response.status_code
        if status >= 300:
            # A 4xx other than a timeout or throttling will answer the same next time.
            final = 400 <= status < 500 and status not in (408, 425, 429)
            raise Failure(f"webhook answered {status}", final)

    def _mail(self, item: outbox.Claimed) -> None:
        subject, body = channels.mail(item.payload)
        sender = self.app.config["MAIL_DEFAULT_SENDER"]
        domain = parseaddr(sender)[1].rpartition("@")[2] or "loadzone"
        headers = {"Message-ID": f"<{item.key}@{domain}>"}
        try:
            EmailMessage(subject, body, sender, [item.target], headers=headers).send()
        except Exception as exc:  # refused, unreachable, timed out: all worth a retry
            raise Failure(f"mail not accepted: {exc}") from exc


def start(app: Flask) -> Courier | None:
    """Start sending in the serving process; nothing to do without a channel configured."""
    settings = app.extensions["loadzone.settings"]
    if not (settings.webhook_url or settings.smtp_url):
        return None
    courier = Courier(app).start()
    app.extensions["loadzone.courier"] = courier
    return courier
