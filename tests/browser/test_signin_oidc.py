"""Signing in through a real OpenID Connect provider in Chromium: the button, the provider's
form, the board, the admin group, a refusal in Russian, and signing out at the provider."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_board
from tests.oidc.harness import PASSWORD, Provider

pytestmark = pytest.mark.browser


@pytest.fixture
def provider(tmp_path):
    idp = Provider(tmp_path / "idp").start()
    yield idp
    idp.stop()


def provider_log_in(page, user: str) -> None:
    page.locator("#idp-username").fill(user)
    page.locator("#idp-password").fill(PASSWORD)
    page.locator("#idp-submit").click()


def test_sign_in_and_out_through_the_provider(browse, provider, screenshots):
    browse.start(auth_mode="oidc", oidc_label="Test IdP", **provider.settings())
    page = browse.page(path="/")
    expect(page).to_have_url(f"{browse.url}/login")
    expect(page.locator("#login-form")).to_have_count(0)  # `oidc` mode: no e-mail form
    page.screenshot(path=screenshots / "oidc-login.png")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    expect(page.locator("#idp-password")).to_be_visible()
    provider_log_in(page, "boss")
    expect(page).to_have_url(f"{browse.url}/")
    wait_for_board(page)
    # Admin through the group claim: the role badge and the admin's controls.
    expect(page.locator(".who")).to_contain_text("boss@example.com")
    expect(page.locator(".who .role")).to_have_text("admin")
    expect(page.locator("#add-vm")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    # Out of LoadZone and out of the provider: its form asks for the password again.
    expect(page).to_have_url(f"{browse.url}/login")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    expect(page.locator("#idp-password")).to_be_visible()
    provider_log_in(page, "alice")
    wait_for_board(page)
    expect(page.locator(".who")).to_have_text("alice@example.com")
    expect(page.locator("#add-vm")).to_have_count(0)  # admins are configured: by the group


def test_refusal_page_in_russian_offers_both_ways(browse, provider, screenshots):
    browse.start(auth_mode="link", **provider.settings())
    browse.allow(r"status of 403")  # the refusal page itself answers 403
    page = browse.page(path="/login", locale="ru-RU")
    expect(page.locator("#login-form")).to_be_visible()  # the link mode beside the provider
    page.get_by_role("link", name="Войти с рабочей учётной записью").click()
    provider_log_in(page, "mallory")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        "Ваш адрес электронной почты не подтверждён у поставщика учётных записей."
    )
    expect(page.get_by_role("link", name="Войти с рабочей учётной записью")).to_be_visible()
    expect(page.locator("#login-form")).to_be_visible()
    page.screenshot(path=screenshots / "oidc-refused-ru.png")
