"""The usage page from a known set of bookings, and the audit history of a busy month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from loadzone.core.storage import transaction
from loadzone.models import Booking
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


def usage_pool(now: datetime) -> tuple[dict, list[dict]]:
    """Four VMs (two groups and one ungrouped) and bookings whose usage is known by hand."""
    groups = [
        {"id": 1, "name": "Generators", "vm_ids": ["gen-1", "gen-2"]},
        {"id": 2, "name": "Databases", "vm_ids": ["db-1"]},
    ]
    vms = [
        {"id": vm_id, "booked_by": None, "expires_at": None}
        for vm_id in ("gen-1", "gen-2", "db-1", "spare-1")
    ]
    day, hour = timedelta(days=1), timedelta(hours=1)
    alice, bob, carol = PEOPLE
    bookings = [
        # (vm, owner, start, planned hours, hours actually held, state)
        ("gen-1", alice, now - 2 * day, 4, 4, "ended"),
        ("gen-1", bob, now - 3 * day, 2, 1, "ended"),  # released after an hour
        ("gen-2", alice, now - 10 * day, 6, 6, "ended"),  # only in the last 30 days
        ("gen-2", alice, now - day, 2, 0, "cancelled"),  # never held: counts nowhere
        ("db-1", carol, now - day, 3, 3, "ended"),
        ("db-1", alice, now - 20 * day, 5, 5, "ended"),
        ("spare-1", bob, now - 7 * day - hour, 3, 3, "ended"),  # 2 of its 3 h in 7 days
    ]
    rows = []
    for vm_id, owner, start, planned, held, state in bookings:
        rows.append(
            {
                "vm_id": vm_id,
                "owner": owner,
                "start": start,
                "end": start + planned * hour,
                "state": state,
                "ended_at": start + held * hour if state == "ended" else start - hour,
                "end_reason": "manual" if state == "ended" else "cancelled",
                "created_at": start - hour,
            }
        )
    return {"vms": vms, "groups": groups, "users": {}}, rows


@pytest.fixture
def seed_bookings(app_factory, seed_database):
    """The pool by data.json, then finished bookings written straight into the database."""

    def seed(pool: dict, rows: list[dict]) -> None:
        seed_database(pool)
        app = app_factory()
        with app.app_context(), transaction() as session:
            session.add_all(Booking(**row) for row in rows)

    return seed


def figures(page) -> dict:
    ids = ["usage-bookings", "usage-hours", "usage-occupancy", "usage-queue", "usage-wait"]
    return {key: page.locator(f"#{key}").inner_text() for key in ids}


def group_rows(page) -> list[list[str]]:
    rows = page.locator("#usage-groups tr")
    return [row.locator("th, td").all_inner_texts() for row in rows.all()]


def test_usage_from_the_server(browse, seed_bookings, screenshots):
    pool, rows = usage_pool(datetime.now(UTC).replace(microsecond=0))
    seed_bookings(pool, rows)
    page = browse.page("alice@example.com")
    page.get_by_role("link", name="Usage").click()
    view = page.locator("#view-usage")
    expect(view).to_have_attribute("data-ready", "true")

    # 7 days: gen-1 4 h + 1 h, db-1 3 h, spare-1 2 h: 10 h of 4 VMs x 168 h.
    assert figures(page) == {
        "usage-bookings": "4",
        "usage-hours": "10",
        "usage-occupancy": "1.5 %",
        "usage-queue": "0 (0 granted)",
        "usage-wait": "–",
    }
    assert group_rows(page) == [
        ["Databases", "1", "3", "1.8 %", "1"],
        ["Generators", "2", "5", "1.5 %", "2"],
        ["Ungrouped", "1", "2", "1.2 %", "1"],
    ]
    expect(page.locator("#chart-group-bookings")).to_have_attribute(
        "aria-label", "Bookings per group: Generators: 2, Databases: 1, Ungrouped: 1"
    )
    expect(page.locator("#chart-vm-bookings")).to_have_attribute(
        "aria-label", "Most booked VMs: gen-1: 2, db-1: 1, spare-1: 1"
    )
    expect(page.locator("#chart-vm-occupancy")).to_have_attribute(
        "aria-label", "Most occupied VMs: gen-1: 3 %, db-1: 1.8 %, spare-1: 1.2 %"
    )
    page.screenshot(path=screenshots / "usage-charts.png", full_page=True)

    # 30 days: gen-2 6 h and db-1 5 h join, spare-1 counts all its 3 h: 22 h of 4 x 720 h.
    page.get_by_text("Last 30 days", exact=True).click()
    expect(page.locator("#usage-bookings")).to_have_text("6")
    assert figures(page)["usage-hours"] == "22"
    assert figures(page)["usage-occupancy"] == "0.8 %"
    assert group_rows(page) == [
        ["Databases", "2", "8", "1.1 %", "2"],
        ["Generators", "3", "11", "0.8 %", "2"],
        ["Ungrouped", "1", "3", "0.4 %", "1"],
    ]
    expect(page.locator("#chart-vm-bookings")).to_have_attribute(
        "aria-label", "Most booked VMs: db-1: 2, gen-1: 2, gen-2: 1, spare-1: 1"
    )


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
