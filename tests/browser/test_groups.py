"""Groups: create, move VMs in and out, rename, delete — and the board follows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN, row
from tests.conftest import api_session

pytestmark = pytest.mark.browser


def test_create_group_and_move_vms(browse):
    admin = api_session(browse.url, ADMIN)
    for vm_id in ("vm-1", "vm-2", "vm-3"):
        admin.post(f"{browse.url}/api/vms", json={"id": vm_id}).raise_for_status()
    page = browse.page(ADMIN)
    other = browse.page("bob@example.com")

    page.get_by_role("link", name="Groups", exact=True).click()
    page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog", name="New group")
    dialog.get_by_label("Name").fill("Load generators")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    card = page.locator(".group-card", has=page.get_by_role("heading", name="Load generators"))
    expect(card).to_be_visible()

    card.get_by_label("Move a VM here").fill("vm-2")
    card.get_by_role("button", name="Move").click()
    expect(card.locator(".chip .vm-id")).to_have_text(["vm-2"])
    expect(row(other, "vm-2").locator(".vm-group-name")).to_have_text("Load generators")

    # The board can move a VM too, from its details dialog.
    page.get_by_role("link", name="Board", exact=True).click()
    row(page, "vm-3").get_by_role("button", name="Details and more actions for vm-3").click()
    details = page.get_by_role("dialog", name="vm-3")
    details.get_by_label("Group").select_option(label="Load generators")
    details.get_by_role("button", name="Save").click()
    expect(row(page, "vm-3").locator(".vm-group-name")).to_have_text("Load generators")
    page.locator("#filter-group").select_option(label="Load generators")
    expect(page.locator("#vm-list > li:visible")).to_have_count(2)
    expect(page.locator("#board-count")).to_have_text("Showing 2 of 3 VMs")

    page.get_by_role("link", name="Groups", exact=True).click()
    card.get_by_role("button", name="Take vm-2 out of the group").click()
    expect(card.locator(".chip .vm-id")).to_have_text(["vm-3"])
    expect(row(other, "vm-2").locator(".vm-group-name")).to_have_text("")

    card.get_by_role("button", name="Rename").click()
    dialog = page.get_by_role("dialog", name="Rename Load generators")
    dialog.get_by_label("Name").fill("Generators")
    dialog.get_by_role("button", name="Rename").click()
    card = page.locator(".group-card", has=page.get_by_role("heading", name="Generators"))
    expect(card).to_be_visible()
    expect(row(other, "vm-3").locator(".vm-group-name")).to_have_text("Generators")
    expect(other.locator("#filter-group option", has_text="Generators")).to_have_count(1)

    card.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete the group Generators?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(card).to_have_count(0)
    expect(page.locator("#groups-empty")).to_be_visible()
    expect(row(other, "vm-3").locator(".vm-group-name")).to_have_text("")
    assert admin.get(f"{browse.url}/api/groups").json() == []
