"""Missed events: the page notices the gap in `seq` and reads the state again; a sign-out
elsewhere closes its socket and sends it to the sign-in page."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import row
from tests.conftest import REDIS_URL, api_session

pytestmark = pytest.mark.browser


def test_page_rereads_the_state_after_a_gap(browse):
    server = browse.start()  # no Redis: the command line's events reach no browser
    page = browse.page("alice@example.com")
    admin = api_session(server.url, "admin@example.com")
    subprocess.run(
        [sys.executable, "-m", "loadzone", "vm", "add", "added-by-cli"],
        env={**os.environ, **server.env},
        check=True,
        capture_output=True,
        timeout=60,
    )
    expect(page.locator("body")).not_to_have_attribute("data-gap-rereads", "1")
    assert row(page, "added-by-cli").count() == 0
    # The next event names the command line's as the one before it: a gap, so a re-read.
    assert admin.post(f"{server.url}/api/vms", json={"id": "added-by-api"}).status_code == 201
    expect(row(page, "added-by-api")).to_be_visible()
    expect(row(page, "added-by-cli")).to_have_attribute("data-status", "free")
    expect(page.locator("body")).to_have_attribute("data-gap-rereads", "1")


def test_sign_out_sends_the_other_instances_page_to_sign_in(browse, server_factory):
    first = browse.start(redis_url=REDIS_URL)
    second = server_factory(admins="admin@example.com", redis_url=REDIS_URL)
    here = browse.page("alice@example.com")
    context = browse.browser.new_context(base_url=second.url, locale="en-US")
    browse.contexts.append(context)
    context.add_cookies(here.context.cookies(first.url))  # the same browser session...
    there = context.new_page()
    closed: list[float] = []
    there.on("websocket", lambda ws: ws.on("close", lambda _: closed.append(time.monotonic())))
    there.goto(second.url + "/")  # ...on the other instance
    expect(there.locator("body")).to_have_attribute("data-live", "true")
    # The board reads its state once the socket is up: signing out before those reads end
    # would send the page away on their 401 instead of on the socket's close.
    there.wait_for_load_state("networkidle")
    browse.allow(r"401|WebSocket|Failed to load resource")

    signed_out = time.monotonic()
    here.locator("#sign-out").click()
    # The page finds itself signed out once its socket is closed; the close itself is timed
    # (the redirect can come so soon that a "disconnected" mark is never seen).
    expect(there).to_have_url(f"{second.url}/login", timeout=15000)
    assert closed, "the other instance's socket was never closed"
    assert closed[0] - signed_out < 2.0
    assert first.url != second.url
