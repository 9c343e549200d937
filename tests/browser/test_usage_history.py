"""The usage charts and the audit history, from a month of imported bookings."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN
from tests.conftest import api_session

pytestmark = pytest.mark.browser
PEOPLE = ["alice@example.com", "bob@example.com", "carol@example.com"]


def busy_month() -> dict:
    """12 VMs in 3 groups and 30 days of bookings, renewals and releases."""
    now = datetime.now(UTC).replace(microsecond=0)
    groups = [
        {"id": 1, "name": "Generators", "vm_ids": [f"gen-{n}" for n in range(1, 7)]},
        {"id": 2, "name": "Databases", "vm_ids": ["db-1", "db-2", "db-3"]},
        {"id": 3, "name": "Staging", "vm_ids": ["stage-1", "stage-2"]},
    ]
    ids = [vm for group in groups for vm in group["vm_ids"]] + ["spare-1"]
    users = {
        email: {"created": (now - timedelta(days=40)).isoformat(), "bookings": []}
        for email in PEOPLE
    }
    for day in range(30):
        for index, vm_id in enumerate(ids):
            if (day + index) % (2 + index % 4):
                continue
            start = now - timedelta(days=day, hours=3 + index % 5)
            hours = 1 + (day * 7 + index) % 8
            person = users[PEOPLE[(day + index) % 3]]["bookings"]
            end = start + timedelta(hours=hours)
            person.append(
                {
                    "vm_id": vm_id,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "action": "book",
                }
            )
            if index % 3 == 0:
                end += timedelta(hours=2)
                renewed = (start + timedelta(hours=1)).isoformat()
                person.append(
                    {"vm_id": vm_id, "start": renewed, "end": end.isoformat(), "action": "renew"}
                )
            released = min(end, now - timedelta(minutes=5)).isoformat()
            person.append(
                {
                    "vm_id": vm_id,
                    "start": released,
                    "end": None,
                    "action": "release",
                    "reason": "expired",
                    "actor": None,
                }
            )
    vms = [{"id": vm_id, "booked_by": None, "expires_at": None} for vm_id in ids]
    return {"vms": vms, "groups": groups, "users": users}


def test_usage_charts(browse, seed_database, screenshots):
    counts = seed_database(busy_month())
    page = browse.page("alice@example.com")
    page.get_by_role("link", name="Usage").click()
    view = page.locator("#view-usage")
    expect(view).to_have_attribute("data-ready", "true")
    expect(page.locator("#usage-status")).to_contain_text(f"{counts['history']:,}")
    seven = int(page.locator("#usage-bookings").inner_text().replace(",", ""))
    assert seven > 0
    canvas = page.locator("#chart-group-bookings")
    expect(canvas).to_have_attribute("aria-label", re.compile("Generators: "))
    page.screenshot(path=screenshots / "usage-charts.png", full_page=True)
    page.get_by_text("Last 30 days", exact=True).click()
    expect(page.locator("#usage-bookings")).not_to_have_text(str(seven))
    thirty = int(page.locator("#usage-bookings").inner_text().replace(",", ""))
    assert thirty > seven


def test_audit_history_filters_and_pages(browse, seed_database):
    seed_database(busy_month())
    page = browse.page(ADMIN)
    page.get_by_role("link", name="History").click()
    rows = page.locator("#history-rows tr")
    expect(rows).to_have_count(50)
    more = page.get_by_role("button", name="Load more")
    more.click()
    expect(rows).to_have_count(100)

    filters = page.locator("#history-filters")
    filters.get_by_label("VM", exact=True).fill("db-1")
    filters.get_by_label("Action").select_option("renew")
    filters.get_by_role("button", name="Apply").click()
    admin = api_session(browse.url, ADMIN)
    expected = admin.get(
        f"{browse.url}/api/history", params={"vm_id": "db-1", "action": "renew", "limit": 500}
    ).json()["items"]
    assert expected
    expect(rows).to_have_count(len(expected))
    expect(rows.locator("td.vm-id")).to_have_text(["db-1"] * len(expected))

    filters.get_by_role("button", name="Reset").click()
    expect(rows).to_have_count(50)
    filters.get_by_label("Person").fill("carol@example.com")
    filters.get_by_role("button", name="Apply").click()
    expect(rows.nth(0).locator("td").nth(3)).to_have_text("carol@example.com")

    # "My bookings" lists only the person's own records.
    page.get_by_role("link", name="My bookings").click()
    expect(page.locator("#mine-empty")).to_be_visible()
    expect(page.locator("#mine-none")).to_be_visible()
    carol = browse.page("carol@example.com", path="/#mine")
    own = api_session(browse.url, "carol@example.com").get(f"{browse.url}/api/me/bookings")
    first = own.json()["items"][0]
    expect(carol.locator("#mine-rows tr")).to_have_count(50)
    expect(carol.locator("#mine-rows tr").first.locator("td.vm-id")).to_have_text(first["vm_id"])
    expect(carol.get_by_role("button", name="Load more")).to_be_visible()
