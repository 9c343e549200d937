"""The calendar: reserving a slot by click, drag and keyboard, bars that follow other people's
bookings live, moving, cancelling and releasing one's own, errors as toasts, and how it looks."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN
from tests.conftest import api_session

pytestmark = pytest.mark.browser
ALICE = "alice@example.com"
BOB = "bob@example.com"
DAYS = 7  # the window shown on a desktop: today and the next six days


def today() -> datetime:
    """Midnight UTC: the calendar's first day in a browser whose time zone is UTC."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    return today() + timedelta(days=1, hours=hour, minutes=minute)


def minute_input(when: datetime) -> str:
    """A UTC instant as the value of a datetime-local input in a UTC browser."""
    return when.strftime("%Y-%m-%dT%H:%M")


def open_calendar(browse, email: str, **options) -> Page:
    page = browse.page(email, path="/#calendar", timezone_id="UTC", **options)
    expect(page.locator("#cal-scroll")).to_have_attribute("aria-busy", "false")
    return page


def track(page: Page, vm_id: str):
    return page.locator(f'.cal-row[data-vm="{vm_id}"] .cal-track')


def bars(page: Page, vm_id: str):
    return track(page, vm_id).locator(".cal-bar")


def point(page: Page, vm_id: str, when: datetime) -> dict:
    """Where `when` lies on a VM's row, relative to the row's track."""
    box = track(page, vm_id).bounding_box()
    share = (when - today()) / timedelta(days=DAYS)
    return {"x": share * box["width"], "y": box["height"] / 2}


def screen_point(page: Page, vm_id: str, when: datetime) -> tuple[float, float]:
    box = track(page, vm_id).bounding_box()
    spot = point(page, vm_id, when)
    return box["x"] + spot["x"], box["y"] + spot["y"]


def add_vms(browse, *ids: str, **fields) -> None:
    admin = api_session(browse.url, ADMIN)
    for vm_id in ids:
        admin.post(f"{browse.url}/api/vms", json={"id": vm_id, **fields}).raise_for_status()


def reserve(session, base: str, vm_id: str, start: datetime | None, hours: int) -> dict:
    body = {"vm_id": vm_id, "hours": hours}
    if start:
        body["start"] = start.isoformat()
    response = session.post(f"{base}/api/bookings", json=body)
    assert response.status_code == 201, response.text
    return response.json()["bookings"][0]


def bookings_of(session, base: str, vm_id: str) -> list[dict]:
    query = {"vm_id": vm_id, "state": "reserved,active"}
    return session.get(f"{base}/api/bookings", params=query).json()["items"]


def test_reserve_a_slot_by_click_and_others_see_it(browse, screenshots):
    add_vms(browse, "cal-1", "cal-2")
    alice = open_calendar(browse, ALICE)
    bob = open_calendar(browse, BOB)

    track(alice, "cal-1").click(position=point(alice, "cal-1", tomorrow_at(10, 30)))
    dialog = alice.get_by_role("dialog", name="Reserve a VM")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("VM")).to_have_value("cal-1")
    expect(dialog.get_by_label("Start")).to_have_value(minute_input(tomorrow_at(10)))
    expect(dialog.get_by_label("Hours")).to_have_value("2")
    dialog.get_by_label("Hours").fill("3")
    alice.screenshot(path=screenshots / "calendar-reserve-dialog.png")
    dialog.get_by_role("button", name="Reserve", exact=True).click()
    expect(dialog).to_be_hidden()

    mine = bars(alice, "cal-1")
    expect(mine).to_have_count(1)
    expect(mine).to_have_attribute("data-state", "reserved")
    expect(mine).to_have_attribute("data-mine", "")
    expect(mine).to_have_text("alice")
    # Bob's calendar follows without a reload; the bar is not his.
    theirs = bars(bob, "cal-1")
    expect(theirs).to_have_count(1)
    expect(theirs).to_have_text("alice")
    assert theirs.get_attribute("data-mine") is None
    expect(bars(bob, "cal-2")).to_have_count(0)

    api = api_session(browse.url, ALICE)
    [booking] = bookings_of(api, browse.url, "cal-1")
    assert booking["state"] == "reserved"
    assert booking["owner"] == ALICE
    assert datetime.fromisoformat(booking["start"]) == tomorrow_at(10)
    assert datetime.fromisoformat(booking["end"]) == tomorrow_at(13)
    # The bar sits where the booking lies: 10:00 to 13:00 tomorrow.
    box = track(alice, "cal-1").bounding_box()
    bar = mine.bounding_box()
    assert abs(bar["x"] - (box["x"] + point(alice, "cal-1", tomorrow_at(10))["x"])) < 2
    assert abs(bar["width"] - 3 / (DAYS * 24) * box["width"]) < 2


def test_someone_elses_reservation_appears_and_goes_live(browse):
    add_vms(browse, "live-1")
    alice = open_calendar(browse, ALICE)
    expect(bars(alice, "live-1")).to_have_count(0)
    alice.evaluate("window.notReloaded = true")

    bob = api_session(browse.url, BOB)
    booking = reserve(bob, browse.url, "live-1", tomorrow_at(14), 4)
    bar = bars(alice, "live-1")
    expect(bar).to_have_count(1)
    expect(bar).to_have_text("bob")
    expect(bar).to_have_attribute("data-state", "reserved")
    expect(bar).to_have_attribute("title", re.compile(rf"^Reserved: {re.escape(BOB)}, "))

    # Moved by its owner: the bar moves; cancelled: it goes.
    start = tomorrow_at(18)
    patch = {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}
    before = bar.bounding_box()["x"]
    bob.patch(f"{browse.url}/api/bookings/{booking['id']}", json=patch).raise_for_status()
    alice.wait_for_function(
        "([x]) => document.querySelector('.cal-row[data-vm=\"live-1\"] .cal-bar')"
        ".getBoundingClientRect().x > x + 10",
        arg=[before],
    )
    bob.delete(f"{browse.url}/api/bookings/{booking['id']}").raise_for_status()
    expect(bars(alice, "live-1")).to_have_count(0)

    # VMs come and go live too, with their bookings.
    add_vms(browse, "live-0")
    expect(alice.locator(".cal-row").first).to_have_attribute("data-vm", "live-0")
    reserve(bob, browse.url, "live-0", tomorrow_at(3), 2)
    expect(bars(alice, "live-0")).to_have_count(1)
    api_session(browse.url, ADMIN).delete(f"{browse.url}/api/vms/live-0").raise_for_status()
    expect(alice.locator('.cal-row[data-vm="live-0"]')).to_have_count(0)
    expect(alice.locator(".cal-bar")).to_have_count(0)
    expect(alice.locator("#cal-count")).to_have_text("Showing 1 of 1 VMs")
    assert alice.evaluate("window.notReloaded") is True


def test_move_and_cancel_own_reservation(browse):
    add_vms(browse, "mv-1")
    api = api_session(browse.url, ALICE)
    booking = reserve(api, browse.url, "mv-1", tomorrow_at(9), 2)
    page = open_calendar(browse, ALICE)
    bar = bars(page, "mv-1")
    expect(bar).to_have_count(1)
    before = bar.bounding_box()

    bar.click()
    dialog = page.get_by_role("dialog", name="mv-1 · Reserved")
    expect(dialog).to_contain_text(f"{ALICE} (you)")
    expect(dialog.get_by_label("Start")).to_have_value(minute_input(tomorrow_at(9)))
    expect(dialog.get_by_label("Hours")).to_have_value("2")
    moved = tomorrow_at(15, 30)
    dialog.get_by_label("Start").fill(minute_input(moved))
    dialog.get_by_label("Hours").fill("5")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()

    [after] = bookings_of(api, browse.url, "mv-1")
    assert after["id"] == booking["id"]
    assert datetime.fromisoformat(after["start"]) == moved
    assert datetime.fromisoformat(after["end"]) == moved + timedelta(hours=5)
    page.wait_for_function(
        "([x]) => document.querySelector('.cal-row[data-vm=\"mv-1\"] .cal-bar')"
        ".getBoundingClientRect().x > x + 10",
        arg=[before["x"]],
    )
    box = bar.bounding_box()
    assert box["width"] == pytest.approx(before["width"] * 5 / 2, abs=2)

    bar.click()
    dialog.get_by_role("button", name="Cancel reservation").click()
    expect(dialog).to_be_hidden()
    expect(bars(page, "mv-1")).to_have_count(0)
    gone = api.get(f"{browse.url}/api/bookings/{booking['id']}").json()
    assert gone["state"] == "cancelled"


def test_change_end_of_active_booking_and_release_it(browse):
    add_vms(browse, "act-1")
    api = api_session(browse.url, ALICE)
    booking = reserve(api, browse.url, "act-1", None, 2)
    assert booking["state"] == "active"
    page = open_calendar(browse, ALICE)
    bar = bars(page, "act-1")
    expect(bar).to_have_attribute("data-state", "active")
    expect(bar).to_have_attribute("data-mine", "")

    bar.click()
    dialog = page.get_by_role("dialog", name="act-1 · Active")
    expect(dialog.get_by_label("Start")).to_be_hidden()
    new_end = (datetime.now(UTC) + timedelta(hours=5)).replace(second=0, microsecond=0)
    dialog.get_by_label("Ends at").fill(minute_input(new_end))
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    changed = api.get(f"{browse.url}/api/bookings/{booking['id']}").json()
    assert datetime.fromisoformat(changed["end"]) == new_end
    assert api.get(f"{browse.url}/api/vms/act-1").json()["expires_at"] == changed["end"]

    bar.click()
    dialog.get_by_role("button", name="Release").click()
    expect(bars(page, "act-1")).to_have_count(0)
    ended = api.get(f"{browse.url}/api/bookings/{booking['id']}").json()
    assert ended["state"] == "ended"


def test_drag_to_reserve_several_hours(browse):
    add_vms(browse, "drag-1")
    page = open_calendar(browse, ALICE)
    x1, y = screen_point(page, "drag-1", tomorrow_at(8, 20))
    x2, _ = screen_point(page, "drag-1", tomorrow_at(11, 40))
    page.mouse.move(x1, y)
    page.mouse.down()
    page.mouse.move(x2, y, steps=6)
    expect(page.locator(".cal-ghost")).to_be_visible()
    page.mouse.up()
    dialog = page.get_by_role("dialog", name="Reserve a VM")
    expect(dialog.get_by_label("Start")).to_have_value(minute_input(tomorrow_at(8)))
    expect(dialog.get_by_label("Hours")).to_have_value("4")  # 08:00 to 12:00
    dialog.get_by_role("button", name="Reserve", exact=True).click()
    expect(bars(page, "drag-1")).to_have_count(1)
    [booking] = bookings_of(api_session(browse.url, ALICE), browse.url, "drag-1")
    assert datetime.fromisoformat(booking["end"]) == tomorrow_at(12)


def test_reserve_by_keyboard(browse):
    add_vms(browse, "kb-1", "kb-2")
    page = open_calendar(browse, ALICE)
    cursor = page.locator(".cal-cursor")
    page.locator("#cal-days-shown").focus()
    page.keyboard.press("Tab")  # the pager's buttons come next, then the grid's one tab stop
    for _ in range(6):
        if cursor.evaluate("node => node === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(cursor).to_have_attribute("aria-label", re.compile(r"^kb-1, .*: free$"))
    page.keyboard.press("ArrowDown")
    for _ in range(30):  # 30 hours on: tomorrow, whatever the hour now
        page.keyboard.press("ArrowRight")
    expect(cursor).to_have_attribute("aria-label", re.compile(r"^kb-2, "))
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Reserve a VM")
    expect(dialog.get_by_label("VM")).to_have_value("kb-2")
    expected = (datetime.now(UTC) + timedelta(hours=30)).replace(minute=0, second=0, microsecond=0)
    start = dialog.get_by_label("Start").input_value()
    assert start in {minute_input(expected), minute_input(expected - timedelta(hours=1))}
    dialog.get_by_label("Hours").press("Enter")
    expect(dialog).to_be_hidden()
    expect(cursor).to_be_focused()
    expect(bars(page, "kb-2")).to_have_count(1)
    # On the bar now: Enter opens it.
    expect(cursor).to_have_attribute("aria-label", re.compile(r"Reserved: you, "))
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="kb-2 · Reserved")).to_be_visible()
    page.keyboard.press("Escape")
    expect(cursor).to_be_focused()


def test_conflict_is_a_toast_and_stays_in_the_dialog(browse):
    browse.allow(r"status of 409")  # Chromium logs every refused request
    add_vms(browse, "busy-1")
    reserve(api_session(browse.url, BOB), browse.url, "busy-1", tomorrow_at(10), 2)
    page = open_calendar(browse, ALICE)
    expect(bars(page, "busy-1")).to_have_count(1)
    track(page, "busy-1").click(position=point(page, "busy-1", tomorrow_at(7, 30)))
    dialog = page.get_by_role("dialog", name="Reserve a VM")
    expect(dialog.get_by_label("Hours")).to_have_value("2")  # no more fits before 10:00...
    dialog.get_by_label("Hours").fill("4")  # ...so 07:00 to 11:00 runs into Bob's
    dialog.get_by_role("button", name="Reserve", exact=True).click()
    error = dialog.locator("#reserve-error")
    expect(error).to_be_visible()
    toast = page.locator("#toasts .toast").last
    expect(toast.locator(".toast-title")).to_have_text("That did not work")
    expect(toast.locator(".toast-detail")).to_have_text(error.inner_text())
    expect(bars(page, "busy-1")).to_have_count(1)


def sample(browse) -> None:
    """Eight VMs in two groups, one in maintenance, with bookings of three people."""
    admin = api_session(browse.url, ADMIN)
    groups = {}
    for name in ("Load generators", "Databases"):
        answer = admin.post(f"{browse.url}/api/groups", json={"name": name})
        groups[name] = answer.json()["id"]
    for n in range(1, 9):
        group = groups["Load generators"] if n <= 5 else groups["Databases"]
        vm = {"id": f"lz-{n:02d}", "group": group, "description": f"k6 runner {n}"}
        admin.post(f"{browse.url}/api/vms", json=vm).raise_for_status()
    people = {email: api_session(browse.url, email) for email in (ALICE, BOB, "carol@example.com")}
    plan = [
        (ALICE, "lz-01", None, 3),
        (ALICE, "lz-02", tomorrow_at(9), 6),
        (BOB, "lz-02", tomorrow_at(16), 4),
        (BOB, "lz-03", None, 5),
        ("carol@example.com", "lz-04", tomorrow_at(1), 20),
        ("carol@example.com", "lz-06", None, 8),
        (BOB, "lz-06", tomorrow_at(12), 10),
        (ALICE, "lz-07", today() + timedelta(days=3, hours=8), 24),
        (BOB, "lz-08", today() + timedelta(days=2, hours=5), 12),
    ]
    for owner, vm_id, start, hours in plan:
        reserve(people[owner], browse.url, vm_id, start, hours)
    admin.patch(f"{browse.url}/api/vms/lz-05", json={"maintenance": True}).raise_for_status()


def test_calendar_looks(browse, screenshots):
    sample(browse)
    light = open_calendar(browse, ALICE, color_scheme="light")
    expect(light.locator(".cal-bar")).to_have_count(9)
    expect(light.locator('.cal-row[data-vm="lz-05"]')).to_have_attribute("data-maintenance", "")
    expect(light.locator("#cal-now")).to_be_visible()
    light.screenshot(path=screenshots / "calendar-light.png")

    # The group filter keeps only that group's rows.
    filters = light.locator("#cal-filters")
    filters.get_by_label("Group").select_option(label="Databases")
    expect(light.locator(".cal-row:not([hidden])")).to_have_count(3)
    expect(light.locator("#cal-count")).to_have_text("Showing 3 of 8 VMs")
    filters.get_by_label("Search").fill("lz-07")
    expect(light.locator(".cal-row:not([hidden])")).to_have_count(1)

    dark = open_calendar(browse, BOB, color_scheme="dark")
    expect(dark.locator("html")).to_have_attribute("data-theme", "dark")
    expect(dark.locator(".cal-bar[data-mine]")).to_have_count(4)
    dark.screenshot(path=screenshots / "calendar-dark.png")
    bar = dark.locator('.cal-row[data-vm="lz-02"] .cal-bar[data-mine]')
    bar.click()
    expect(dark.get_by_role("dialog", name="lz-02 · Reserved")).to_be_visible()
    dark.screenshot(path=screenshots / "calendar-booking-dialog-dark.png")

    phone = open_calendar(
        browse, ALICE, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    expect(phone.locator(".cal-bar").first).to_be_attached()
    # The page itself never scrolls sideways; the calendar scrolls inside its box.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    box = phone.locator("#cal-scroll").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    phone.screenshot(path=screenshots / "calendar-phone.png")
    # The calendar has scrolled "now" into view; tap just right of the sticky VM column, on
    # a row with nothing booked in the two days shown (whatever the time of day).
    phone.locator('.cal-row[data-vm="lz-07"]').scroll_into_view_if_needed()
    label = phone.locator('.cal-row[data-vm="lz-07"] .cal-vm').bounding_box()
    phone.touchscreen.tap(label["x"] + label["width"] + 12, label["y"] + label["height"] / 2)
    dialog = phone.get_by_role("dialog", name="Reserve a VM")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    phone.screenshot(path=screenshots / "calendar-phone-dialog.png")


def test_calendar_in_russian(browse, screenshots):
    sample(browse)
    page = open_calendar(browse, ALICE, locale="ru-RU")
    expect(page.get_by_role("heading", name="Календарь")).to_be_visible()
    expect(page.get_by_role("link", name="Календарь")).to_have_attribute("aria-current", "page")
    expect(page.locator(".cal-bar").first).to_have_attribute(
        "title", re.compile("^(Резерв|Идёт): ")
    )
    page.locator('.cal-row[data-vm="lz-02"] .cal-bar[data-mine]').click()
    dialog = page.get_by_role("dialog", name="lz-02 · Резерв")
    expect(dialog.get_by_role("button", name="Отменить резерв")).to_be_visible()
    page.screenshot(path=screenshots / "calendar-ru-dialog.png")
