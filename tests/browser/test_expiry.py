"""The expiry warning and the automatic release, as the owner sees them; the notification list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN, row
from tests.conftest import api_session

pytestmark = pytest.mark.browser


def test_warning_toast_then_auto_release(browse):
    admin = api_session(browse.url, ADMIN)
    alice = api_session(browse.url, "alice@example.com")
    admin.post(f"{browse.url}/api/vms", json={"id": "vm-1"}).raise_for_status()
    alice.post(f"{browse.url}/api/vms/vm-1/book", json={"hours": 2}).raise_for_status()
    page = browse.page("alice@example.com")
    page.context.grant_permissions(["notifications"])
    bob = browse.page("bob@example.com")
    expect(row(page, "vm-1")).to_have_attribute("data-status", "mine")

    # Inside the 60-minute lead time: the warning comes at once, the release 4 s later.
    soon = datetime.now(UTC) + timedelta(seconds=4)
    admin.patch(
        f"{browse.url}/api/vms/vm-1", json={"expires_at": soon.isoformat()}
    ).raise_for_status()

    warning = page.locator('.toast[data-kind="warning"]')
    expect(warning).to_contain_text("Your booking ends soon")
    expect(warning).to_contain_text("vm-1")
    expect(row(page, "vm-1")).to_have_attribute("data-urgency", "soon")
    expect(bob.locator('.toast[data-kind="warning"]')).to_have_count(0)  # the owner's only

    expect(row(page, "vm-1")).to_have_attribute("data-status", "free", timeout=15000)
    expect(page.locator(".toast", has_text="Booking ended")).to_contain_text("vm-1")
    expect(row(bob, "vm-1")).to_have_attribute("data-status", "free")
    expect(row(bob, "vm-1").get_by_role("button", name="Book vm-1")).to_be_visible()

    # Everything was also stored: the list has it, with an unread count.
    badge = page.locator("#notif-count")
    expect(badge).to_be_visible()
    page.get_by_role("button", name="Notifications").click()
    panel = page.get_by_role("dialog", name="Notifications")
    expect(panel.locator(".notif").first).to_contain_text("Booking ended")
    expect(panel.locator(".notif", has_text="Your booking ends soon")).to_have_count(1)
    assert panel.locator(".notif[data-unread]").count() >= 2
    panel.get_by_role("button", name="Mark all read").click()
    expect(panel.locator(".notif[data-unread]")).to_have_count(0)
    expect(badge).to_be_hidden()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    unread = alice.get(f"{browse.url}/api/notifications").json()["unread"]
    assert unread == 0
