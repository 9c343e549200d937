"""Losing the server: a banner while it is away, and the state re-read when it is back."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import row

pytestmark = pytest.mark.browser


def test_banner_and_resync_after_reconnect(browse):
    server = browse.start()
    page = browse.page("alice@example.com")
    banner = page.locator("#conn-banner")
    expect(banner).to_be_hidden()
    browse.allow(r"WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource")

    server.kill()  # abrupt, like a crash; a graceful stop waits for the open sockets
    expect(banner).to_be_visible(timeout=15000)
    expect(banner).to_contain_text("reconnecting")

    # While the browser is cut off, the command line adds a VM: no event can reach the page.
    subprocess.run(
        [sys.executable, "-m", "loadzone", "vm", "add", "added-offline"],
        env={**os.environ, **server.env},
        check=True,
        capture_output=True,
        timeout=60,
    )
    server.start()
    expect(banner).to_be_hidden(timeout=20000)
    expect(row(page, "added-offline")).to_have_attribute("data-status", "free")
