"""Booking from the board: the dialog, the live countdown, renew, release, and what a second
browser sees without reloading."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN, row
from tests.conftest import api_session

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"


def countdown_seconds(text: str) -> int:
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def test_book_renew_release_seen_live(browse, screenshots):
    admin = api_session(browse.url, ADMIN)
    admin.post(f"{browse.url}/api/vms", json={"id": "vm-1", "description": XSS}).raise_for_status()
    admin.post(f"{browse.url}/api/vms", json={"id": "vm-2"}).raise_for_status()
    alice = browse.page("alice@example.com")
    bob = browse.page("bob@example.com")

    # User data is text, never markup.
    expect(row(alice, "vm-1").locator(".vm-desc")).to_have_text(XSS)
    assert alice.locator("#vm-list img").count() == 0

    row(alice, "vm-1").get_by_role("button", name="Book vm-1").click()
    dialog = alice.get_by_role("dialog", name="Book vm-1")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="4 h", exact=True).click()
    expect(dialog.locator("#hours-value")).to_have_text("4 h")
    alice.screenshot(path=screenshots / "booking-dialog.png")
    dialog.get_by_role("button", name="Book", exact=True).click()
    expect(dialog).to_be_hidden()

    countdown = row(alice, "vm-1").locator(".countdown")
    expect(countdown).to_have_text(re.compile(r"^0[34]:\d\d:\d\d$"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first)  # it ticks
    assert countdown_seconds(countdown.inner_text()) < countdown_seconds(first)
    expect(row(alice, "vm-1")).to_have_attribute("data-status", "mine")

    # Bob's board follows without a reload.
    expect(row(bob, "vm-1")).to_have_attribute("data-status", "booked")
    expect(row(bob, "vm-1").locator(".owner-email")).to_have_text("alice@example.com")
    expect(row(bob, "vm-1").locator(".countdown")).to_have_text(re.compile(r"^0[34]:"))
    expect(row(bob, "vm-1").get_by_role("button", name="Book vm-1")).to_have_count(0)

    row(alice, "vm-1").get_by_role("button", name="Renew vm-1").click()
    dialog = alice.get_by_role("dialog", name="Renew vm-1")
    dialog.locator("#hours-range").fill("2")
    dialog.get_by_role("button", name="Renew", exact=True).click()
    expect(countdown).to_have_text(re.compile(r"^0[56]:"))
    expect(row(bob, "vm-1").locator(".countdown")).to_have_text(re.compile(r"^0[56]:"))

    row(alice, "vm-1").get_by_role("button", name="Release vm-1").click()
    alice.get_by_role("dialog", name="Release vm-1?").get_by_role("button", name="Release").click()
    expect(row(alice, "vm-1")).to_have_attribute("data-status", "free")
    expect(row(bob, "vm-1")).to_have_attribute("data-status", "free")
    expect(row(bob, "vm-1").get_by_role("button", name="Book vm-1")).to_be_visible()

    history = [e["action"] for e in admin.get(f"{browse.url}/api/history").json()["items"]]
    assert history == ["release", "renew", "book"]


def test_booking_by_keyboard(browse):
    admin = api_session(browse.url, ADMIN)
    admin.post(f"{browse.url}/api/vms", json={"id": "kb-1"}).raise_for_status()
    page = browse.page("alice@example.com")
    book = row(page, "kb-1").get_by_role("button", name="Book kb-1")
    book.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Book kb-1")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#hours-range")).to_be_focused()
    page.keyboard.press("ArrowRight")  # 2 h -> 3 h
    expect(dialog.locator("#hours-value")).to_have_text("3 h")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(book).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog.locator("#hours-range")).to_be_focused()
    page.keyboard.press("ArrowLeft")  # 2 h -> 1 h
    dialog.get_by_role("button", name="Book", exact=True).focus()
    page.keyboard.press("Enter")
    expect(row(page, "kb-1")).to_have_attribute("data-status", "mine")
    expect(row(page, "kb-1").locator(".countdown")).to_have_text(re.compile(r"^0[01]:"))


def test_admin_changes_expiry_and_force_releases(browse):
    admin_api = api_session(browse.url, ADMIN)
    alice_api = api_session(browse.url, "alice@example.com")
    admin_api.post(f"{browse.url}/api/vms", json={"id": "vm-9"}).raise_for_status()
    alice_api.post(f"{browse.url}/api/vms/vm-9/book", json={"hours": 3}).raise_for_status()
    page = browse.page(ADMIN)
    expect(row(page, "vm-9")).to_have_attribute("data-status", "booked")
    row(page, "vm-9").get_by_role("button", name="Details and more actions for vm-9").click()
    dialog = page.get_by_role("dialog", name="vm-9")
    expect(dialog.get_by_text("alice@example.com")).to_be_visible()
    later = datetime.now(UTC) + timedelta(hours=10, minutes=30)
    local = page.evaluate(
        "iso => { const d = new Date(iso); return new Date(d - d.getTimezoneOffset() * 60000)"
        ".toISOString().slice(0, 19); }",
        later.isoformat(),
    )
    dialog.get_by_label("New expiry").fill(local)
    dialog.get_by_role("button", name="Change expiry").click()
    expect(dialog).to_be_hidden()
    expect(row(page, "vm-9").locator(".countdown")).to_have_text(re.compile(r"^10:[23]\d:"))
    expiry = alice_api.get(f"{browse.url}/api/vms/vm-9").json()["expires_at"]
    assert abs(datetime.fromisoformat(expiry) - later) < timedelta(seconds=2)

    row(page, "vm-9").get_by_role("button", name="Force release vm-9").click()
    confirm = page.get_by_role("dialog", name="Force release vm-9?")
    expect(confirm).to_contain_text("alice@example.com")
    confirm.get_by_role("button", name="Force release").click()
    expect(row(page, "vm-9")).to_have_attribute("data-status", "free")
    last = admin_api.get(f"{browse.url}/api/history", params={"vm_id": "vm-9"}).json()["items"][0]
    assert (last["action"], last["reason"], last["actor"]) == ("release", "admin", ADMIN)


def test_add_and_edit_a_vm(browse):
    page = browse.page(ADMIN)
    page.get_by_role("button", name="Add VM").click()
    dialog = page.get_by_role("dialog", name="Add a VM")
    dialog.get_by_label("VM id").fill("new-vm")
    dialog.get_by_label("Description").fill("Fresh " + XSS)
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(row(page, "new-vm").locator(".vm-desc")).to_have_text("Fresh " + XSS)

    row(page, "new-vm").get_by_role("button", name="Details and more actions for new-vm").click()
    dialog = page.get_by_role("dialog", name="new-vm")
    dialog.get_by_label("In maintenance").check()
    dialog.get_by_role("button", name="Save").click()
    expect(row(page, "new-vm")).to_have_attribute("data-status", "maintenance")
    expect(page.locator("#stat-maintenance")).to_have_text("1")

    row(page, "new-vm").get_by_role("button", name="Details and more actions for new-vm").click()
    page.get_by_role("dialog", name="new-vm").get_by_role("button", name="Delete VM").click()
    page.get_by_role("dialog", name="Delete new-vm?").get_by_role("button", name="Delete").click()
    expect(row(page, "new-vm")).to_have_count(0)
    expect(page.locator("#board-empty")).to_have_text("No VMs yet.")


def test_people_who_do_not_administer_see_no_admin_controls(browse):
    admin = api_session(browse.url, ADMIN)
    admin.post(f"{browse.url}/api/vms", json={"id": "vm-1"}).raise_for_status()
    admin.post(f"{browse.url}/api/vms/vm-1/book", json={"hours": 1}).raise_for_status()
    page = browse.page("bob@example.com")
    expect(page.get_by_role("button", name="Add VM")).to_have_count(0)
    expect(row(page, "vm-1").get_by_role("button", name="Force release vm-1")).to_have_count(0)
    row(page, "vm-1").get_by_role("button", name="Details and more actions for vm-1").click()
    dialog = page.get_by_role("dialog", name="vm-1")
    expect(dialog.get_by_text(ADMIN)).to_be_visible()
    expect(dialog.get_by_role("button", name="Save")).to_be_hidden()
    expect(dialog.get_by_role("button", name="Delete VM")).to_be_hidden()
    expect(dialog.get_by_role("button", name="Force release")).to_be_hidden()
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Groups", exact=True).click()
    expect(page.get_by_role("button", name="New group")).to_have_count(0)
