"""Pools and the queue in the browser: labels and addresses on the board, "Get any free VM",
waiting in the queue until one's turn comes (live, with a toast and a desktop alert),
leaving the queue, held VMs, and how it all looks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN, row, wait_for_board
from tests.conftest import api_session

pytestmark = pytest.mark.browser
ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"

# Desktop alerts, recorded instead of shown: the page believes the person allowed them.
FAKE_NOTIFICATIONS = """
window.desktopAlerts = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.desktopAlerts.push({ title, ...options }); }
};
"""


def make_group(admin, base: str, name: str, vm_ids: list[str]) -> int:
    response = admin.post(f"{base}/api/groups", json={"name": name, "vm_ids": vm_ids})
    response.raise_for_status()
    return response.json()["id"]


def add_vm(admin, base: str, vm_id: str, **fields) -> None:
    admin.post(f"{base}/api/vms", json={"id": vm_id, **fields}).raise_for_status()


def book(session, base: str, vm_id: str, hours: int = 3) -> dict:
    response = session.post(f"{base}/api/bookings", json={"vm_id": vm_id, "hours": hours})
    assert response.status_code == 201, response.text
    return response.json()["bookings"][0]


def shown_ids(page: Page) -> list[str]:
    return page.locator("#vm-list > li:visible").evaluate_all("rows => rows.map(r => r.dataset.id)")


def tab(page: Page, name: str):
    return page.locator(".tabs").get_by_role("link", name=name)


def claim_dialog(page: Page):
    return page.locator("#claim-dialog")


def test_label_chips_filter_the_board(browse):
    admin = api_session(browse.url, ADMIN)
    add_vm(admin, browse.url, "gen-1", labels={"os": "linux", "cpu": "16"})
    add_vm(admin, browse.url, "gen-2", labels={"os": "linux", "cpu": "8"})
    add_vm(admin, browse.url, "gen-3", labels={"os": "windows", "cpu": "16"})
    add_vm(admin, browse.url, "plain")
    page = browse.page(ALICE)
    expect(row(page, "gen-1").locator(".label-chip")).to_have_text(["cpu=16", "os=linux"])
    expect(row(page, "plain").locator(".vm-labels")).to_be_hidden()

    row(page, "gen-1").get_by_role("button", name="Show only VMs labelled os=linux").click()
    expect(page.locator("#board-count")).to_have_text("Showing 2 of 4 VMs")
    assert shown_ids(page) == ["gen-1", "gen-2"]
    chips = page.locator("#label-filter-chips > li")
    expect(chips).to_have_text(["os=linux"])

    # A second label narrows further (every label must match), from the keyboard.
    row(page, "gen-1").get_by_role("button", name="Show only VMs labelled cpu=16").focus()
    page.keyboard.press("Enter")
    expect(chips).to_have_text(["os=linux", "cpu=16"])
    expect(page.locator("#board-count")).to_have_text("Showing 1 of 4 VMs")

    # A VM labelled later appears live when it matches.
    admin.patch(
        f"{browse.url}/api/vms/gen-2", json={"labels": {"os": "linux", "cpu": "16"}}
    ).raise_for_status()
    expect(page.locator("#board-count")).to_have_text("Showing 2 of 4 VMs")

    page.get_by_role("button", name="Stop filtering by os=linux").click()
    expect(chips).to_have_text(["cpu=16"])
    assert shown_ids(page) == ["gen-1", "gen-2", "gen-3"]
    expect(page.get_by_role("button", name="Stop filtering by cpu=16")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#label-filter")).to_be_hidden()
    expect(page.locator("#board-count")).to_have_text("Showing 4 of 4 VMs")
    expect(page.locator("#filter-q")).to_be_focused()

    # Labels are searchable too, and the URL can carry a label filter.
    page.locator("#filter-q").fill("windows")
    expect(page.locator("#board-count")).to_have_text("Showing 1 of 4 VMs")
    page.locator("#filter-q").fill("")
    page.goto(f"{browse.url}/#board?label=cpu%3D8")
    page.wait_for_function("document.querySelector('#label-filter-chips li')")
    expect(page.locator("#board-count")).to_have_text("Showing 0 of 4 VMs")


def test_copy_the_address(browse):
    admin = api_session(browse.url, ADMIN)
    add_vm(admin, browse.url, "addr-1", address="10.0.0.5:2222")
    add_vm(admin, browse.url, "addr-2")
    page = browse.page(ALICE, permissions=["clipboard-read", "clipboard-write"])
    expect(row(page, "addr-1").locator(".address-text")).to_have_text("10.0.0.5:2222")
    expect(row(page, "addr-2").locator(".vm-address")).to_be_hidden()

    copy = row(page, "addr-1").get_by_role("button", name="Copy the address of addr-1")
    copy.click()
    expect(page.locator(".toast", has_text="Address copied")).to_contain_text("10.0.0.5:2222")
    expect(copy).to_have_attribute("data-copied", "")
    assert page.evaluate("navigator.clipboard.readText()") == "10.0.0.5:2222"

    # Without the Clipboard API (plain http on a LAN address) the older copy command does it.
    old = browse.page(ALICE, permissions=["clipboard-read", "clipboard-write"])
    old.evaluate("Object.defineProperty(navigator, 'clipboard', { value: undefined })")
    row(old, "addr-1").get_by_role("button", name="Copy the address of addr-1").click()
    expect(old.locator(".toast", has_text="Address copied")).to_be_visible()


def test_get_any_free_vm_granted_at_once(browse):
    admin = api_session(browse.url, ADMIN)
    for n in range(1, 5):
        add_vm(admin, browse.url, f"pool-{n}", labels={"disk": "ssd" if n != 2 else "hdd"})
    group = make_group(admin, browse.url, "Load generators", [f"pool-{n}" for n in range(1, 5)])
    book(api_session(browse.url, CAROL), browse.url, "pool-1")
    page = browse.page(ALICE)
    other = browse.page(BOB)

    page.get_by_role("link", name="Groups", exact=True).click()
    page.get_by_role("button", name="Get any free VM of Load generators").click()
    dialog = claim_dialog(page)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Group")).to_have_value(str(group))
    dialog.get_by_label("VMs", exact=True).fill("2")
    dialog.get_by_label("Hours").fill("3")
    dialog.get_by_role("button", name="Add a label").click()
    expect(dialog.get_by_label("Label key")).to_be_focused()
    page.keyboard.type("disk")
    dialog.get_by_label("Label value").fill("ssd")
    dialog.get_by_role("button", name="Get it", exact=True).click()

    result = dialog.locator("#claim-result")
    expect(result).to_contain_text("Yours now: pool-3, pool-4")
    expect(result).to_contain_text("Booked until")
    expect(dialog.locator("#claim-close")).to_be_focused()
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Board", exact=True).click()
    for vm_id in ("pool-3", "pool-4"):
        expect(row(page, vm_id)).to_have_attribute("data-status", "mine")
        expect(row(other, vm_id)).to_have_attribute("data-status", "booked")
    expect(row(page, "pool-2")).to_have_attribute("data-status", "free")

    # Nothing more fits and she does not wait: the dialog says what would help.
    browse.allow(r"status of 409")  # Chromium logs every refused request
    page.locator("#filter-group").select_option(str(group))
    page.get_by_role("button", name="Get any free VM").click()
    dialog.get_by_label("VMs", exact=True).fill("2")
    dialog.get_by_role("button", name="Get it", exact=True).click()
    expect(dialog.locator("#claim-error")).to_contain_text("Not enough free VMs match now")
    expect(row(page, "pool-2")).to_have_attribute("data-status", "free")


def test_wait_in_the_queue_and_get_the_vm_live(browse, screenshots):
    admin = api_session(browse.url, ADMIN)
    add_vm(admin, browse.url, "busy-1", description="k6 runner", address="10.0.0.7")
    alice = api_session(browse.url, ALICE)
    booking = book(alice, browse.url, "busy-1")
    alice_page = browse.page(ALICE)
    bob = browse.page(BOB)
    bob.add_init_script(FAKE_NOTIFICATIONS)
    bob.reload()
    wait_for_board(bob)
    bob.evaluate("window.notReloaded = true")

    row(bob, "busy-1").get_by_role("button", name="Wait for busy-1").click()
    dialog = claim_dialog(bob)
    expect(dialog.get_by_role("heading", name="Wait for busy-1")).to_be_visible()
    expect(dialog).to_contain_text(f"Booked by {ALICE}")
    dialog.get_by_label("Hours").fill("2")
    dialog.get_by_label("Wait at most").select_option("120")
    bob.screenshot(path=screenshots / "queue-wait-dialog.png")
    dialog.get_by_role("button", name="Join the queue").click()
    result = dialog.locator("#claim-result")
    expect(result).to_contain_text("You are #1 in the queue for busy-1.")
    expect(result).to_contain_text("Expected turn:")
    [request] = api_session(browse.url, BOB).get(f"{browse.url}/api/queue").json()
    assert (request["vm_id"], request["hours"], request["owner"]) == ("busy-1", 2, BOB)

    dialog.get_by_role("link", name="Show the queue").click()
    expect(dialog).to_be_hidden()
    expect(bob.get_by_role("heading", name="Queue")).to_be_visible()
    mine = bob.locator("#queue-rows > tr")
    expect(mine).to_have_count(1)
    expect(mine.locator(".queue-place")).to_have_text("#1")
    expect(mine.locator(".queue-who")).to_have_text(f"{BOB} (you)")
    expect(mine.locator(".queue-target")).to_have_text("busy-1")
    expect(mine.get_by_role("button", name="Leave the queue for busy-1")).to_be_visible()
    expect(bob.locator("#queue-count")).to_have_text("1")
    # Everyone sees who waits, live; only the owner (or an admin) may take it out.
    tab(alice_page, "Queue").click()
    expect(alice_page.locator("#queue-rows > tr .queue-who")).to_have_text(BOB)
    expect(alice_page.locator("#queue-rows button")).to_have_count(0)
    bob.get_by_role("link", name="Board", exact=True).click()
    expect(
        row(bob, "busy-1").get_by_role("link", name=re.compile("You wait for busy-1"))
    ).to_be_visible()

    # Alice releases through the API: Bob's turn comes without a reload.
    alice.delete(f"{browse.url}/api/bookings/{booking['id']}").raise_for_status()
    toast = bob.locator(".toast", has_text="Your turn in the queue")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("busy-1")
    expect(row(bob, "busy-1")).to_have_attribute("data-status", "mine")
    expect(row(bob, "busy-1").get_by_role("button", name="Renew busy-1")).to_be_visible()
    expect(row(alice_page, "busy-1")).to_have_attribute("data-status", "booked")
    expect(bob.locator("#queue-count")).to_be_hidden()
    alerts = bob.evaluate("window.desktopAlerts")
    assert [a["title"] for a in alerts] == ["Your turn in the queue: VM granted"]
    assert alerts[0]["body"] == "busy-1"
    assert bob.evaluate("window.notReloaded") is True
    bob.screenshot(path=screenshots / "queue-your-turn.png")
    expect(alice_page.locator("#queue-rows > tr")).to_have_count(0)
    expect(alice_page.locator("#queue-empty")).to_be_visible()


def test_leave_the_queue(browse):
    admin = api_session(browse.url, ADMIN)
    add_vm(admin, browse.url, "solo-1")
    group = make_group(admin, browse.url, "Solo", ["solo-1"])
    book(api_session(browse.url, ALICE), browse.url, "solo-1")
    bob = browse.page(BOB)
    admin_page = browse.page(ADMIN, path="/#queue")

    bob.locator("#filter-group").select_option(str(group))
    bob.get_by_role("button", name="Get any free VM").click()
    dialog = claim_dialog(bob)
    expect(dialog.get_by_label("Group")).to_have_value(str(group))
    dialog.get_by_label("Wait if none is free").check()
    expect(dialog.get_by_label("Wait at most")).to_have_value("60")
    dialog.get_by_role("button", name="Get it or wait").click()
    expect(dialog.locator("#claim-result")).to_contain_text("You are #1 in the queue for Solo.")
    bob.keyboard.press("Escape")

    # The admin's queue view follows live and may remove anyone's request.
    expect(admin_page.locator("#queue-rows > tr .queue-who")).to_have_text(BOB)
    expect(
        admin_page.get_by_role("button", name=f"Remove the request of {BOB} for Solo")
    ).to_be_visible()

    tab(bob, "Queue").click()
    bob.get_by_role("button", name="Leave the queue for Solo").click()
    confirm = bob.get_by_role("dialog", name="Leave the queue?")
    expect(confirm).to_contain_text("place 1")
    confirm.get_by_role("button", name="Leave").click()
    expect(bob.locator("#queue-rows > tr")).to_have_count(0)
    expect(bob.locator("#queue-empty")).to_be_visible()
    expect(bob.get_by_role("heading", name="Queue", exact=True)).to_be_focused()
    expect(admin_page.locator("#queue-rows > tr")).to_have_count(0)
    requests = api_session(browse.url, BOB).get(f"{browse.url}/api/queue").json()
    assert requests == []


def test_held_vms_on_the_board(browse, screenshots):
    admin = api_session(browse.url, ADMIN)
    add_vm(admin, browse.url, "held-1", labels={"os": "linux"}, address="db1.lab:5432")
    add_vm(admin, browse.url, "held-2", labels={"os": "linux"})
    add_vm(admin, browse.url, "held-3")
    group = make_group(admin, browse.url, "Pair", ["held-1", "held-2"])
    alice = api_session(browse.url, ALICE)
    booking = book(alice, browse.url, "held-2")
    page = browse.page(BOB)

    # Carol wants both: the free one is held for her until the other frees up.
    carol = api_session(browse.url, CAROL)
    body = {"group": group, "count": 2, "hours": 1, "wait": True}
    answer = carol.post(f"{browse.url}/api/bookings", json=body)
    assert answer.status_code == 202, answer.text
    held = row(page, "held-1")
    expect(held).to_have_attribute("data-status", "held")
    expect(held.locator(".pill")).to_have_text("Held")
    expect(held.locator(".pill")).to_have_attribute("title", "Kept for the oldest request waiting")
    expect(held.locator(".owner-email")).to_have_text(f"for {CAROL}")
    expect(held.get_by_role("button", name="Wait for held-1")).to_be_visible()
    expect(held.get_by_role("button", name="Book held-1")).to_have_count(0)
    expect(page.locator("#stat-held")).to_have_text("1")
    page.locator("#filter-status").select_option("held")
    assert shown_ids(page) == ["held-1"]
    page.locator("#filter-status").select_option("")
    page.screenshot(path=screenshots / "board-held.png")

    tab(page, "Queue").click()
    request = page.locator("#queue-rows > tr")
    expect(request.locator(".queue-held")).to_have_text("held-1")
    expect(request.locator(".queue-target")).to_have_text("Pair")
    expect(request.locator(".queue-who")).to_have_text(CAROL)

    # The other one frees up: Carol gets both, live.
    alice.delete(f"{browse.url}/api/bookings/{booking['id']}").raise_for_status()
    expect(request).to_have_count(0)
    page.get_by_role("link", name="Board", exact=True).click()
    for vm_id in ("held-1", "held-2"):
        expect(row(page, vm_id)).to_have_attribute("data-status", "booked")
        expect(row(page, vm_id).locator(".owner-email")).to_have_text(CAROL)
    expect(page.locator("#stat-held-item")).to_be_hidden()


def test_labels_and_address_in_the_vm_dialog(browse):
    page = browse.page(ADMIN)
    page.get_by_role("button", name="Add VM").click()
    dialog = page.get_by_role("dialog", name="Add a VM")
    dialog.get_by_label("VM id").fill("lab-1")
    dialog.get_by_label("Address").fill("10.1.2.3:22")
    dialog.get_by_role("button", name="Add a label").click()
    dialog.get_by_label("Label key").fill("OS")
    dialog.get_by_label("Label value").fill("linux")
    dialog.get_by_role("button", name="Add a label").click()
    dialog.get_by_label("Label key").nth(1).fill("bad key")
    dialog.get_by_label("Label value").nth(1).fill("x")
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog.locator("#vm-error")).to_contain_text("Label key “bad key”")
    expect(dialog.get_by_label("Label key").nth(1)).to_be_focused()
    dialog.get_by_label("Label key").nth(1).fill("cpu")
    dialog.get_by_label("Label value").nth(1).fill("16")
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(row(page, "lab-1").locator(".label-chip")).to_have_text(["cpu=16", "os=linux"])
    expect(row(page, "lab-1").locator(".address-text")).to_have_text("10.1.2.3:22")

    api = api_session(browse.url, ADMIN)
    vm = api.get(f"{browse.url}/api/vms/lab-1").json()
    assert (vm["labels"], vm["address"]) == ({"os": "linux", "cpu": "16"}, "10.1.2.3:22")

    row(page, "lab-1").get_by_role("button", name="Details and more actions for lab-1").click()
    dialog = page.get_by_role("dialog", name="lab-1")
    expect(dialog.locator("#vm-details")).to_contain_text("cpu=16, os=linux")
    expect(dialog.get_by_label("Label key")).to_have_count(2)
    dialog.get_by_role("button", name="Remove this label").first.click()
    expect(dialog.get_by_label("Label key")).to_have_count(1)
    dialog.get_by_label("Address").fill("")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(row(page, "lab-1").locator(".label-chip")).to_have_text(["os=linux"])
    expect(row(page, "lab-1").locator(".vm-address")).to_be_hidden()
    vm = api.get(f"{browse.url}/api/vms/lab-1").json()
    assert (vm["labels"], vm["address"]) == ({"os": "linux"}, None)

    # The server's refusal shows in the dialog.
    browse.allow("status of 400")
    row(page, "lab-1").get_by_role("button", name="Details and more actions for lab-1").click()
    dialog.get_by_label("Address").fill("http://10.1.2.3")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.locator("#vm-error")).to_contain_text("host or host:port")


def queue_scene(browse) -> int:
    """A pool with labels and addresses, bookings, a held VM and three waiting requests."""
    admin = api_session(browse.url, ADMIN)
    names = ["k6 runner, 16 vCPU", "JMeter node", "PostgreSQL 16 replica", ""]
    for n in range(1, 7):
        labels = {"os": "linux", "cpu": "16" if n % 2 else "8"}
        if n == 3:
            labels["region"] = "eu-west-1"
        add_vm(
            admin,
            browse.url,
            f"lz-{n:02d}",
            description=names[n % 4],
            labels=labels,
            address=f"10.20.0.{n}:22" if n != 5 else None,
        )
    group = make_group(admin, browse.url, "Load generators", [f"lz-{n:02d}" for n in range(1, 5)])
    make_group(admin, browse.url, "Databases", ["lz-05", "lz-06"])
    alice = api_session(browse.url, ALICE)
    for vm_id in ("lz-01", "lz-02", "lz-03"):
        book(alice, browse.url, vm_id, hours=5)
    carol = api_session(browse.url, CAROL)
    book(carol, browse.url, "lz-05", hours=2)
    waits = [
        (carol, {"group": group, "count": 2, "hours": 4}),
        (api_session(browse.url, BOB), {"vm_id": "lz-05", "hours": 1}),
        (api_session(browse.url, ADMIN), {"labels": {"cpu": "16"}, "count": 3, "hours": 2}),
    ]
    for session, body in waits:
        answer = session.post(f"{browse.url}/api/bookings", json={**body, "wait": True})
        assert answer.status_code == 202, answer.text
    return group


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_queue_look(browse, screenshots):
    group = queue_scene(browse)
    for theme in ("light", "dark"):
        page = browse.page(BOB, color_scheme=theme)
        expect(row(page, "lz-04")).to_have_attribute("data-status", "held")
        expect(row(page, "lz-04").locator(".owner-email")).to_have_text(f"for {CAROL}")
        page.screenshot(path=screenshots / f"queue-board-{theme}.png")
        tab(page, "Groups").click()
        expect(page.get_by_role("button", name="Get any free VM of Databases")).to_be_visible()
        page.screenshot(path=screenshots / f"queue-groups-{theme}.png")
        tab(page, "Queue").click()
        expect(page.locator("#queue-rows > tr")).to_have_count(3)
        expect(page.locator("#queue-rows > tr").nth(1).locator(".queue-place")).to_have_text("#1")
        page.screenshot(path=screenshots / f"queue-view-{theme}.png")
        page.get_by_role("button", name="Get any free VM").click()
        dialog = claim_dialog(page)
        dialog.get_by_label("Group").select_option(str(group))
        dialog.get_by_role("button", name="Add a label").click()
        dialog.get_by_label("Label key").fill("cpu")
        dialog.get_by_label("Label value").fill("16")
        dialog.get_by_label("Wait if none is free").check()
        page.screenshot(path=screenshots / f"queue-claim-{theme}.png")
        dialog.get_by_role("button", name="Get it or wait").click()
        expect(dialog.locator("#claim-result")).to_contain_text("in the queue for Load generators")
        page.screenshot(path=screenshots / f"queue-claim-result-{theme}.png")
        page.keyboard.press("Escape")
        # Bob leaves again, so that both themes show the same queue.
        bob = api_session(browse.url, BOB)
        for request in bob.get(f"{browse.url}/api/queue").json():
            if request["owner"] == BOB and request["group"] == group:
                bob.delete(f"{browse.url}/api/queue/{request['id']}").raise_for_status()

    phone = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
    page = browse.page(BOB, **phone)
    expect(row(page, "lz-04")).to_have_attribute("data-status", "held")
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / "queue-phone-board.png", full_page=True)
    tab(page, "Queue").click()
    expect(page.locator("#queue-rows > tr")).to_have_count(3)
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / "queue-phone-view.png", full_page=True)
    page.get_by_role("button", name="Get any free VM").click()
    dialog = claim_dialog(page)
    dialog.get_by_role("button", name="Add a label").click()
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    page.screenshot(path=screenshots / "queue-phone-claim.png")

    russian = browse.page(BOB, locale="ru-RU", **phone)
    tab(russian, "Очередь").click()
    expect(russian.get_by_role("heading", name="Очередь", exact=True)).to_be_visible()
    no_sideways_scroll(russian)
    russian.screenshot(path=screenshots / "queue-phone-ru.png", full_page=True)
    tab(russian, "Доска").click()
    row(russian, "lz-01").get_by_role("button", name="Дождаться lz-01").click()
    russian.screenshot(path=screenshots / "queue-phone-wait-ru.png")
