"""The settings page: e-mail choices and the calendar feed, by keyboard, in both languages,
both themes and at phone width."""

from __future__ import annotations

import pytest
import requests
from icalendar import Calendar
from playwright.sync_api import expect

from loadzone.notifications import preferences
from tests.browser.conftest import ADMIN
from tests.conftest import api_session

pytestmark = pytest.mark.browser


def open_settings(page) -> None:
    """Reach the page from the menu with the keyboard."""
    page.locator('a[data-view="settings"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#settings-title")).to_be_focused()
    expect(page.locator("#prefs-list input")).to_have_count(len(preferences.TYPES))


def feed_uids(url: str) -> set[str]:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    return {str(event["UID"]) for event in Calendar.from_ical(response.content).walk("VEVENT")}


def test_email_choices_and_feed(browse, screenshots):
    url = browse.start().url
    admin, alice = api_session(url, ADMIN), api_session(url, "alice@example.com")
    admin.post(f"{url}/api/vms", json={"id": "vm-1"})
    booked = alice.post(f"{url}/api/vms/vm-1/book", json={"hours": 2}).json()
    page = browse.page("alice@example.com", color_scheme="light")
    open_settings(page)

    warning = page.get_by_label("Your booking ends soon")
    expect(warning).to_be_checked()
    expect(page.get_by_label("VM added")).not_to_be_checked()
    warning.focus()
    page.keyboard.press("Space")
    expect(page.locator("#prefs-status")).to_have_text("Saved.")
    expect(warning).not_to_be_checked()
    assert alice.get(f"{url}/api/me/preferences").json()["email"]["expiry_warning"] is False

    page.get_by_role("button", name="Create a new address").click()
    field = page.get_by_label("Calendar feed address")
    expect(field).not_to_have_value("")
    first = field.input_value()
    assert first.startswith(url + "/calendar/")
    assert feed_uids(first) == {f"booking-{booked['booking_id']}@loadzone"}
    expect(page.get_by_role("button", name="Copy the address")).to_be_visible()
    page.screenshot(path=screenshots / "settings-light.png", full_page=True)

    page.get_by_role("button", name="Create a new address").click()
    expect(field).not_to_have_value(first)
    assert requests.get(first, timeout=10).status_code == 404
    assert len(feed_uids(field.input_value())) == 1


def test_russian_dark_and_phone(browse, screenshots):
    dark = browse.page("bob@example.com", color_scheme="dark", locale="ru-RU")
    open_settings(dark)
    expect(dark.locator("#settings-title")).to_have_text("Настройки")
    expect(dark.get_by_text("Присылать также на почту")).to_be_visible()
    expect(dark.get_by_role("button", name="Создать новый адрес")).to_be_visible()
    expect(dark.locator("html")).to_have_attribute("data-theme", "dark")
    dark.screenshot(path=screenshots / "settings-dark-ru.png", full_page=True)

    phone = browse.page(
        "bob@example.com", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    open_settings(phone)
    phone.get_by_role("button", name="Create a new address").click()
    expect(phone.get_by_label("Calendar feed address")).not_to_have_value("")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    phone.screenshot(path=screenshots / "settings-phone.png", full_page=True)
