"""The one-click extend page, opened from a warning's link without being signed in, in
English (light) and Russian (dark)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN
from tests.conftest import api_session

pytestmark = pytest.mark.browser


def warned_link(url: str, owner, admin, vm_id: str) -> tuple[str, datetime]:
    """Book `vm_id`, bring its end inside the warning lead time; the warning's link and end."""
    admin.post(f"{url}/api/vms", json={"id": vm_id}).raise_for_status()
    owner.post(f"{url}/api/vms/{vm_id}/book", json={"hours": 2}).raise_for_status()
    end = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
    admin.patch(f"{url}/api/vms/{vm_id}", json={"expires_at": end.isoformat()}).raise_for_status()
    for _ in range(200):
        items = owner.get(f"{url}/api/notifications").json()["items"]
        found = [n for n in items if n["type"] == "expiry_warning" and n["vm_id"] == vm_id]
        if found:
            return found[0]["extend_url"], end
        owner.get(f"{url}/healthz")  # the warning job runs at once; give it a moment
    raise AssertionError("no warning")


def expires(session, url: str, vm_id: str) -> datetime:
    return datetime.fromisoformat(session.get(f"{url}/api/vms/{vm_id}").json()["expires_at"])


def test_extend_page_in_english_and_russian(browse, screenshots):
    url = browse.url
    admin, alice = api_session(url, ADMIN), api_session(url, "alice@example.com")

    link, end = warned_link(url, alice, admin, "vm-1")
    page = browse.page(path=link, color_scheme="light")
    expect(page.locator("h1")).to_have_text("Extend your booking")
    expect(page.locator("#extend-offer")).to_contain_text("VM vm-1 of alice@example.com")
    page.screenshot(path=screenshots / "extend-en-light.png")
    assert expires(alice, url, "vm-1") == end  # opening the page changed nothing
    page.locator("#extend-submit").click()
    expect(page.locator("#extend-done")).to_contain_text("VM vm-1 now ends at")
    assert expires(alice, url, "vm-1") == end + timedelta(hours=1)
    page.screenshot(path=screenshots / "extend-en-done.png")

    link, end = warned_link(url, alice, admin, "vm-2")
    russian = browse.page(path=link, locale="ru-RU", color_scheme="dark")
    expect(russian.locator("h1")).to_have_text("Продлить бронирование")
    expect(russian.locator("#extend-submit")).to_have_text("Добавить час")
    expect(russian.locator("html")).to_have_attribute("data-theme", "dark")
    russian.screenshot(path=screenshots / "extend-ru-dark.png")
    russian.locator("#extend-submit").click()
    expect(russian.locator("#extend-done")).to_contain_text("теперь занята до")
    assert expires(alice, url, "vm-2") == end + timedelta(hours=1)

    # The same link again: a 4xx page saying why, in the page's language.
    browse.allow("status of 409")
    answer = russian.goto(link)
    assert answer.status == 409
    expect(russian.locator("#extend-error")).to_contain_text("уже использована")
    russian.screenshot(path=screenshots / "extend-ru-used.png")
