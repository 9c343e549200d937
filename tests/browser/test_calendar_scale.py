"""The calendar with 500 VMs and 1,500 reservations over the week: how long it takes to draw,
to page by a day and to follow a live change, and whether scrolling through it stays smooth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from loadzone.core.storage import transaction
from loadzone.models import Booking
from tests.browser.conftest import report
from tests.conftest import api_session

pytestmark = pytest.mark.browser
VMS = 500
PER_VM = 3
PEOPLE = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]


def week_of_reservations(now: datetime) -> tuple[dict, list[dict]]:
    """500 VMs in 8 groups, each with three reservations spread over the next six days."""
    groups = [{"id": g, "name": f"Rack {g}", "vm_ids": []} for g in range(1, 9)]
    vms = [
        {"id": f"vm-{n:03d}", "group": 1 + n % 8, "booked_by": None, "expires_at": None}
        for n in range(VMS)
    ]
    first = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    rows = []
    for n in range(VMS):
        start = first + timedelta(hours=n % 24)
        for k in range(PER_VM):
            hours = 1 + (n + 5 * k) % 24
            rows.append(
                {
                    "vm_id": f"vm-{n:03d}",
                    "owner": PEOPLE[(n + k) % len(PEOPLE)],
                    "start": start,
                    "end": start + timedelta(hours=hours),
                    "state": "reserved",
                    "created_at": now,
                }
            )
            start += timedelta(hours=hours + 8 + (n * k) % 20)
    return {"vms": vms, "groups": groups, "users": {}}, rows


MEASURES = """() => Object.fromEntries(
  ["rows", "bars", "page"].map((name) => {
    const entries = performance.getEntriesByName(`loadzone:calendar-${name}`);
    return [name, entries.length ? entries[entries.length - 1].duration : null];
  }))"""

SCROLL = """ms => new Promise(resolve => {
  const box = document.getElementById("cal-scroll");
  const tasks = [];
  const frames = [];
  const observer = new PerformanceObserver(list => {
    for (const entry of list.getEntries()) tasks.push(entry.duration);
  });
  observer.observe({ type: "longtask" });
  const started = performance.now();
  let last = started;
  const step = now => {
    frames.push(now - last);
    last = now;
    box.scrollTop += 120;  // about three rows a frame: a fast fling
    if (now - started < ms) requestAnimationFrame(step);
    else { observer.disconnect(); resolve({ tasks, frames: frames.slice(1) }); }
  };
  requestAnimationFrame(step);
})"""


def test_five_hundred_vms_over_a_week(browse, seed_database, app_factory):
    pool, rows = week_of_reservations(datetime.now(UTC))
    seed_database(pool)
    with app_factory().app_context(), transaction() as session:
        session.add_all(Booking(**row) for row in rows)
    page = browse.page("alice@example.com", path="/#calendar", timezone_id="UTC")
    expect(page.locator("#cal-scroll")).to_have_attribute("aria-busy", "false")
    shown = page.locator(".cal-bar").count()
    assert shown >= 1400  # a few of the last ones start after the seventh day
    expect(page.locator(".cal-row")).to_have_count(VMS)
    page.wait_for_function("performance.getEntriesByName('loadzone:calendar-bars').length")
    first = page.evaluate(MEASURES)
    report(
        f"calendar, {VMS} VMs and {shown} bars: rows drawn in {first['rows']:.0f} ms, "
        f"bars in {first['bars']:.0f} ms (each until the next frame was painted)"
    )
    assert first["rows"] + first["bars"] < 1500

    page.get_by_role("button", name="One day later").click()
    page.wait_for_function("performance.getEntriesByName('loadzone:calendar-page').length")
    expect(page.locator("#cal-scroll")).to_have_attribute("aria-busy", "false")
    paged = page.evaluate(MEASURES)
    report(f"calendar, {VMS} VMs: one day later redrawn in {paged['page']:.0f} ms")

    scrolled = page.evaluate(SCROLL, 2000)
    frames = sorted(scrolled["frames"])
    p95 = frames[int(len(frames) * 0.95)]
    report(
        f"calendar, {VMS} VMs: scrolling 2 s, {len(frames)} frames, p95 frame {p95:.0f} ms, "
        f"long tasks {[round(d) for d in scrolled['tasks']]}"
    )
    assert all(duration < 200 for duration in scrolled["tasks"])

    # A live change lands in its row.
    erin = api_session(browse.url, "erin@example.com")
    start = (datetime.now(UTC) + timedelta(days=6)).replace(hour=23, minute=0, second=0)
    body = {"vm_id": "vm-499", "hours": 1, "start": start.isoformat()}
    assert erin.post(f"{browse.url}/api/bookings", json=body).status_code == 201
    expect(page.locator('.cal-row[data-vm="vm-499"] .cal-bar[title*="erin@"]')).to_have_count(1)
