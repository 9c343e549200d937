"""Telling people: stored notifications, their wording, mail and webhooks."""
