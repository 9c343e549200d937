"""Themes, languages and the phone layout, with screenshots of each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import row, wait_for_board

pytestmark = pytest.mark.browser
OWNERS = ["alice@example.com", "bob@example.com", "carol@example.com", None, None]


def sample_pool(count: int = 14) -> dict:
    """A small pool in the seed's data.json shape: groups, owners, expiries, one in maintenance.
    No booking ends within the warning lead time, so no warning toast covers a screenshot."""
    now = datetime.now(UTC)
    groups = [
        {"id": 1, "name": "Load generators", "vm_ids": []},
        {"id": 2, "name": "Databases", "vm_ids": []},
    ]
    descriptions = ["k6 runner, 16 vCPU", "JMeter node", "PostgreSQL 16 replica", ""]
    vms = []
    for n in range(1, count + 1):
        owner = OWNERS[n % len(OWNERS)]
        vm = {
            "id": f"lz-{n:02d}",
            "group": (n % 3) or None,
            "booked_by": owner,
            "expires_at": (now + timedelta(hours=1 + n % 9, minutes=50)).isoformat()
            if owner
            else None,
            "description": descriptions[n % len(descriptions)],
        }
        vms.append(vm)
    vms[-1].update(booked_by=None, expires_at=None, maintenance=True)
    return {"vms": vms, "groups": groups, "users": {}}


def test_themes_follow_the_system_and_the_toggle(browse, seed_database, screenshots):
    seed_database(sample_pool())
    page = browse.page("alice@example.com", color_scheme="light")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "light")
    page.screenshot(path=screenshots / "board-light.png")

    page.get_by_role("button", name="Switch to the dark theme").click()
    expect(html).to_have_attribute("data-theme", "dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(14, 19, 27)"
    page.reload()
    wait_for_board(page)
    expect(html).to_have_attribute("data-theme", "dark")  # remembered
    page.screenshot(path=screenshots / "board-dark.png")

    # Without a remembered choice the system's preference decides.
    dark_system = browse.page("bob@example.com", color_scheme="dark")
    expect(dark_system.locator("html")).to_have_attribute("data-theme", "dark")


def test_language_from_browser_and_switch(browse):
    page = browse.page("alice@example.com", locale="ru-RU")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", name="Доска")).to_be_visible()
    page.get_by_label("Язык").select_option("en")
    expect(page.get_by_role("heading", name="Board")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    wait_for_board(page)  # the scripts of the reloaded page are running
    page.get_by_label("Language").select_option("ru")
    expect(page.get_by_role("link", name="Мои брони")).to_be_visible()
    expect(page.locator("#board-count")).to_contain_text("Показано")


def test_phone_layout(browse, seed_database, screenshots):
    seed_database(sample_pool())
    page = browse.page(
        "alice@example.com", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    expect(page.locator("#vm-list > li")).to_have_count(14)
    # Nothing sticks out sideways at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    card = row(page, "lz-01")
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    expect(card.locator(".countdown")).to_be_visible()
    page.screenshot(path=screenshots / "phone.png")

    free = page.locator('#vm-list > li[data-status="free"]').first
    free.get_by_role("button", name="Book").click()
    dialog = page.locator("#hours-dialog")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    page.screenshot(path=screenshots / "phone-dialog.png")
