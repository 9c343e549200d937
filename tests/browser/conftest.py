"""Browser fixtures: Debian's Chromium, driven by Playwright, against a real server process."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from loadzone.core.storage import transaction
from loadzone.core.timeutil import utcnow
from loadzone.reporting import seedfile
from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN = "admin@example.com"
REPORT: list[str] = []  # lines printed after the run (figures, where screenshots went)


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("browser")
        for line in REPORT:
            terminalreporter.write_line(line)


def report(line: str) -> None:
    """Show a line in the summary at the end of the run (also with -q) and now with -s."""
    REPORT.append(line)
    print(line)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = Path(os.environ.get("LOADZONE_SCREENSHOTS") or ROOT / "test-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    report(f"screenshots: {folder.resolve()}")
    return folder


class Browsing:
    """Browser contexts signed in as people, collecting console errors and page errors."""

    def __init__(self, browser: Browser, server_factory):
        self.browser = browser
        self.server_factory = server_factory
        self.server = None
        self.contexts = []
        self.errors: list[str] = []
        self.allowed: list[re.Pattern] = []

    def start(self, **env):
        """Start the server (admin@example.com administers); page() starts a default one."""
        self.server = self.server_factory(**{"admins": ADMIN, **env})
        return self.server

    @property
    def url(self) -> str:
        if self.server is None:
            self.start()
        return self.server.url

    def allow(self, pattern: str) -> None:
        """Tolerate console errors matching `pattern` (e.g. while the server is down on purpose)."""
        self.allowed.append(re.compile(pattern))

    def _console(self, who: str, message) -> None:
        if message.type == "error" and not any(p.search(message.text) for p in self.allowed):
            self.errors.append(f"{who}: console error: {message.text}")

    def _dialog(self, who: str, dialog) -> None:
        self.errors.append(f"{who}: unexpected {dialog.type}(): {dialog.message}")
        dialog.dismiss()

    def page(self, email: str | None = None, *, path: str = "/", **context_options) -> Page:
        """A fresh context (own cookies) signed in as `email`, showing `path`."""
        options = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US"}
        options.update(context_options)
        context = self.browser.new_context(base_url=self.url, **options)
        self.contexts.append(context)
        if email:
            response = context.request.post("/api/auth/login", data={"email": email})
            assert response.ok, response.text()
        page = context.new_page()
        who = email or "anonymous"
        page.on("console", lambda message: self._console(who, message))
        page.on("pageerror", lambda error: self.errors.append(f"{who}: page error: {error}"))
        page.on("dialog", lambda dialog: self._dialog(who, dialog))
        page.goto(path)
        if email and path.startswith("/") and not path.startswith("/login"):
            wait_for_board(page)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def wait_for_board(page: Page) -> None:
    """The board has its first snapshot and the live link is up."""
    expect(page.locator("#vm-list")).to_have_attribute("aria-busy", "false")
    expect(page.locator("body")).to_have_attribute("data-live", "true")


def row(page: Page, vm_id: str):
    return page.locator(f'#vm-list > li[data-id="{vm_id}"]')


@pytest.fixture
def browse(browser, server_factory):
    browsing = Browsing(browser, server_factory)
    yield browsing
    browsing.close()
    assert browsing.errors == [], "\n".join(browsing.errors)


@pytest.fixture
def seed_database(app_factory):
    """Load a data.json-shaped dict straight into the test database (before a server starts)."""

    def seed(data: dict) -> dict:
        app = app_factory()
        with app.app_context(), transaction():
            return seedfile.import_state(data, utcnow())

    return seed
