"""The board and the calendar while a release hook resets a VM and after one failed."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import row
from tests.conftest import api_session
from tests.hooks.conftest import HookScript

pytestmark = pytest.mark.browser


@pytest.fixture
def hook(tmp_path) -> HookScript:
    return HookScript(tmp_path / "hook")


def _book_and_release(url: str, who: requests.Session, vm_id: str) -> None:
    assert who.post(f"{url}/api/vms/{vm_id}/book", json={"hours": 1}).status_code == 200
    assert who.post(f"{url}/api/vms/{vm_id}/release", json={}).status_code == 200


def test_resetting_and_a_failed_reset_in_both_languages_themes_and_widths(
    browse, hook, screenshots
):
    url = browse.start(hook_release=hook.path).url
    admin = api_session(url, "admin@example.com")
    alice = api_session(url, "alice@example.com")
    for vm_id in ("vm-fail", "vm-reset", "vm-free"):
        assert admin.post(f"{url}/api/vms", json={"id": vm_id}).status_code == 201
    page = browse.page("alice@example.com", color_scheme="light")
    phone = browse.page(
        "bob@example.com",
        locale="ru-RU",
        color_scheme="dark",
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )

    hook.fail_with(4, "snapshot clean-install is missing")
    _book_and_release(url, alice, "vm-fail")
    reason = "release hook exited with 4: snapshot clean-install is missing"
    failed = row(page, "vm-fail")
    expect(failed).to_have_attribute("data-status", "maintenance")
    expect(failed.locator(".pill")).to_have_attribute("title", reason)
    expect(failed.locator(".owner-email")).to_have_text(reason)

    hook.fail_with(0)
    hook.close_gate()
    _book_and_release(url, alice, "vm-reset")
    resetting = row(page, "vm-reset")
    expect(resetting).to_have_attribute("data-status", "resetting")
    expect(resetting.locator(".pill")).to_have_text("Resetting")
    expect(resetting.get_by_role("button", name="Book")).to_have_count(0)
    expect(row(phone, "vm-reset").locator(".pill")).to_have_text("Сброс")
    expect(row(phone, "vm-fail").locator(".owner-email")).to_have_text(reason)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    for view in (page, phone):  # the booking toasts would cover the rows
        view.evaluate("document.getElementById('toasts').replaceChildren()")
    row(phone, "vm-fail").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "hooks-board-light.png")
    phone.screenshot(path=screenshots / "hooks-board-phone-ru-dark.png")

    page.goto("/#calendar")
    calendar_row = page.locator('.cal-row[data-vm="vm-reset"]')
    expect(calendar_row).to_have_attribute("data-resetting", "")
    expect(calendar_row.locator(".cal-vm-note")).to_have_text("Resetting")
    failed_row = page.locator('.cal-row[data-vm="vm-fail"]')
    expect(failed_row.locator(".cal-vm")).to_have_attribute("title", f"vm-fail · {reason}")
    page.screenshot(path=screenshots / "hooks-calendar.png")

    hook.open_gate()
    expect(calendar_row).not_to_have_attribute("data-resetting", "")
    page.goto("/#board")
    expect(resetting).to_have_attribute("data-status", "free")
