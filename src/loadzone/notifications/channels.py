"""Outbound channels: which notifications become e-mails and webhook posts, and their words.

Deliveries are rows of the outbox (`outbox.py`) written in the notification's own
transaction; the courier (`courier.py`) sends them. The stored payload is the notification
object without its extend link, which is derived again when the message is rendered.
"""

from __future__ import annotations

from flask import Flask, current_app

from loadzone.core import events
from loadzone.core.timeutil import utcnow
from loadzone.notifications import notify, outbox, preferences

SUBJECTS = {
    "expiry_warning": "Your LoadZone booking ends soon",
    "vm_auto_released": "Your LoadZone booking has ended",
    "queue_granted": "Your turn in the LoadZone queue",
}
FACTS = (("VM", "vm_id"), ("Group", "group_name"), ("Owner", "owner"), ("Ends", "expires_at"))


def _settings():
    return current_app.extensions["loadzone.settings"]


def translate(session, _facts) -> None:
    """Write a delivery row for each channel a queued notification goes to (before commit)."""
    settings = _settings()
    for event in events.queued(session):
        if event.name != "notification":
            continue
        payload = {k: v for k, v in event.payload.items() if k != "extend_url"}
        note_id, now, hours = payload["id"], utcnow(), settings.delivery_hours
        if settings.webhook_url:
            outbox.add("webhook", settings.webhook_url, payload, now, hours, note_id)
        if not settings.smtp_url:
            continue
        person = event.mail_to or event.to
        for to in preferences.mail_recipients(session, payload["type"], person):
            outbox.add("mail", to, payload, now, hours, note_id)


def complete(payload: dict) -> dict:
    """The stored payload with its extend link derived again."""
    if payload.get("type") == "expiry_warning" and "extend_url" not in payload:
        return {**payload, "extend_url": notify.extend_url(payload["id"])}
    return payload


def mail(payload: dict) -> tuple[str, str]:
    """Subject and plain-text body of a notification e-mail."""
    payload = complete(payload)
    lines = [payload["message"], ""]
    lines += [f"{label}: {payload[key]}" for label, key in FACTS if payload.get(key)]
    if payload.get("extend_url"):
        lines += ["", f"Add an hour with one click: {payload['extend_url']}"]
    subject = SUBJECTS.get(payload["type"], "LoadZone: " + payload["type"].replace("_", " "))
    return subject, "\n".join(lines) + "\n\n-- LoadZone"


def _teams(payload: dict) -> dict:
    """A Microsoft Teams workflow message holding one Adaptive Card."""
    facts = [
        {"title": label, "value": str(payload[key])} for label, key in FACTS if payload.get(key)
    ]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": "LoadZone", "weight": "Bolder", "size": "Medium"},
            {"type": "TextBlock", "text": payload["message"], "wrap": True},
            {"type": "FactSet", "facts": facts},
        ],
    }
    if payload.get("extend_url"):
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Add an hour", "url": payload["extend_url"]}
        ]
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
    return {"type": "message", "attachments": [attachment]}


def webhook_body(payload: dict, form: str) -> dict:
    """The JSON posted for a notification: `json` (text + the object) or `teams`."""
    payload = complete(payload)
    if form == "teams":
        return _teams(payload)
    return {"text": f"LoadZone: {payload['message']}", "notification": payload}


def init_app(app: Flask, settings) -> None:
    """Deliveries are written by a translator that runs after the notifications are stored."""
    events.translate(app, translate)
