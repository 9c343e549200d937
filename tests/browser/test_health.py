"""Health dots on the board and the calendar: colours, words in both languages, live changes,
both themes and the phone width, with screenshots."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN, row
from tests.conftest import api_session, free_port
from tests.listeners import Listener

pytestmark = pytest.mark.browser


@pytest.fixture
def lab(browse):
    """A server probing every 0.2 s and three VMs: one answering, one not, one without address."""
    port = Listener()
    server = browse.start(health_seconds="0.2")
    admin = api_session(server.url, ADMIN)
    vms = [
        {"id": "vm-up", "address": port.address, "description": "answers on its port"},
        {"id": "vm-down", "address": f"127.0.0.1:{free_port()}", "description": "port closed"},
        {"id": "vm-none", "description": "no address"},
    ]
    for vm in vms:
        assert admin.post(f"{server.url}/api/vms", json=vm).status_code == 201
    yield port
    port.close()


def dot(page, vm_id: str):
    return row(page, vm_id).locator(".health-dot")


def colour(locator) -> str:
    return locator.evaluate("(node) => getComputedStyle(node).backgroundColor")


def test_the_board_shows_each_vms_health_and_follows_changes(browse, lab, screenshots):
    page = browse.page("alice@example.com", color_scheme="light")
    expect(dot(page, "vm-up")).to_have_attribute("data-health", "up")
    expect(dot(page, "vm-up")).to_have_attribute("title", "Reachable")
    expect(dot(page, "vm-down")).to_have_attribute("data-health", "down")
    expect(dot(page, "vm-down")).to_have_attribute("title", re.compile(r"^Not reachable since \d"))
    expect(dot(page, "vm-none")).to_have_attribute("data-health", "unknown")
    expect(dot(page, "vm-none")).to_have_attribute("aria-label", "Not checked")
    expect(row(page, "vm-up").locator(".vm-id")).to_have_text("vm-up")
    up, down, unknown = (colour(dot(page, v)) for v in ("vm-up", "vm-down", "vm-none"))
    assert len({up, down}) == 2 and unknown == "rgba(0, 0, 0, 0)"  # the unknown one is a ring
    page.screenshot(path=screenshots / "health-board-light.png")

    lab.close()  # the port stops answering: the dot turns red without a reload
    expect(dot(page, "vm-up")).to_have_attribute("data-health", "down")
    assert colour(dot(page, "vm-up")) == down

    page.get_by_role("button", name="Switch to the dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    lab.open()
    expect(dot(page, "vm-up")).to_have_attribute("data-health", "up")
    assert colour(dot(page, "vm-up")) not in (up, down, unknown)  # the dark theme's green
    page.screenshot(path=screenshots / "health-board-dark.png")

    page.goto("/#calendar")
    calendar_dot = page.locator('.cal-row[data-vm="vm-down"] .health-dot')
    expect(calendar_dot).to_have_attribute("data-health", "down")
    expect(page.locator('.cal-row[data-vm="vm-down"] .cal-vm-id')).to_have_text("vm-down")
    page.screenshot(path=screenshots / "health-calendar-dark.png")


def test_the_health_words_in_russian_at_phone_width(browse, lab, screenshots):
    page = browse.page(
        "alice@example.com",
        locale="ru-RU",
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    expect(dot(page, "vm-up")).to_have_attribute("title", "Доступна")
    expect(dot(page, "vm-down")).to_have_attribute("title", re.compile(r"^Недоступна с \d"))
    expect(dot(page, "vm-none")).to_have_attribute("title", "Не проверяется")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = dot(page, "vm-down").bounding_box()
    assert box["width"] > 4 and box["x"] + box["width"] <= 360
    page.screenshot(path=screenshots / "health-phone-ru.png")
