"""Signing in: open mode, the sign-in link messages, and the redirects around them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_board

pytestmark = pytest.mark.browser


def test_sign_in_reaches_the_board(browse):
    page = browse.page(path="/")
    expect(page).to_have_url(f"{browse.url}/login")
    page.get_by_label("Work e-mail").fill("Alice@Example.com")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{browse.url}/")
    wait_for_board(page)
    expect(page.locator(".who")).to_have_text("alice@example.com")
    # Signed in, /login leads back to the board.
    page.goto("/login")
    expect(page).to_have_url(f"{browse.url}/")


def test_sign_out(browse):
    page = browse.page("alice@example.com")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{browse.url}/login")
    page.goto("/")
    expect(page).to_have_url(f"{browse.url}/login")


def test_a_bad_link_says_so(browse):
    page = browse.page(path="/login?error=link")
    expect(page.get_by_role("alert")).to_contain_text("invalid, already used or expired")


def test_link_mode_points_to_the_server_console(browse):
    browse.start(auth_mode="link")
    page = browse.page(path="/login")
    page.get_by_label("Work e-mail").fill("alice@example.com")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_role("status")).to_contain_text("printed on the server console")
    expect(page.locator("#login-form")).to_be_hidden()
