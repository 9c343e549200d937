"""Optional outbound channels: e-mail to the owner and a JSON webhook for every notification."""

from __future__ import annotations

import logging
import queue
import threading
import time

import requests
from flask import Flask

from loadzone.core import events
from loadzone.extensions import db
from loadzone.notifications import mailer, preferences

log = logging.getLogger(__name__)
RETRY_DELAYS = (1, 4, 15)
SUBJECTS = {
    "expiry_warning": "Your LoadZone booking ends soon",
    "vm_auto_released": "Your LoadZone booking has ended",
    "queue_granted": "Your turn in the LoadZone queue",
}


class Webhook:
    """Posts notifications to one URL from a background thread, retrying with back-off."""

    def __init__(self, url: str, capacity: int = 10000):
        self.url = url
        self.queue: queue.Queue = queue.Queue(maxsize=capacity)
        self.session = requests.Session()
        self.thread = threading.Thread(target=self._run, name="webhook", daemon=True)
        self.thread.start()

    def submit(self, payload: dict) -> None:
        try:
            self.queue.put_nowait(payload)
        except queue.Full:
            log.error("webhook queue full; dropped notification %s", payload.get("id"))

    def _post(self, payload: dict) -> bool:
        body = {"text": f"LoadZone: {payload['message']}", "notification": payload}
        try:
            response = self.session.post(self.url, json=body, timeout=5)
        except requests.RequestException as exc:
            log.warning("webhook failed: %s", exc)
            return False
        if response.status_code >= 400:
            log.warning("webhook answered %s", response.status_code)
            return response.status_code < 500 and response.status_code != 429
        return True

    def _run(self) -> None:
        while True:
            payload = self.queue.get()
            for delay in (0, *RETRY_DELAYS):
                time.sleep(delay)
                if self._post(payload):
                    break
            else:
                log.error("webhook gave up on notification %s", payload.get("id"))


def init_app(app: Flask, settings) -> None:
    """Subscribe the configured channels to committed notifications."""
    hook = Webhook(settings.webhook_url) if settings.webhook_url else None
    box = mailer.outbox(app)

    def deliver(event: events.Event) -> None:
        if event.name != "notification":
            return
        if hook is not None:
            hook.submit(event.payload)
        if box is None:
            return
        type_ = event.payload["type"]
        for to in preferences.mail_recipients(db.engine, type_, event.mail_to or event.to):
            subject = SUBJECTS.get(type_, "LoadZone: " + type_.replace("_", " "))
            box.send(to, subject, event.payload["message"] + "\n\n-- LoadZone")

    if hook is not None or box is not None:
        events.subscribe(app, deliver)
