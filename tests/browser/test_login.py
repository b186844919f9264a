"""Signing in through the browser: password, then a TOTP code computed here;
the home page; the language switch; forced enrolment of an officer by scanning
(reading the secret the activation page shows); the home page at 320px."""

import pytest

from conftest import enrol_totp, totp_code
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_sign_in_with_password_and_totp_then_switch_language(portal, world):
    secret = enrol_totp(world.users["a_holder"])
    page = portal()
    sign_in(page, "a_holder", secret)
    assert page.path() == "/", page.url
    page.check_a11y()
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text().startswith("Xin chào")
    # The stylesheet and the scripts were served and applied.
    header_bg = page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
    assert header_bg == "rgb(13, 59, 102)"
    assert page.evaluate("typeof window.htmx") == "object"

    page.select_option("#lang-select", "en")
    page.click(".lang-switch button[type=submit]")
    page.wait_for_load_state("load")
    page.check_a11y()
    assert page.path() == "/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text().startswith("Hello")
    assert page.locator(".lang-switch button").inner_text() != "Đổi ngôn ngữ"
    assert page.locator("nav.main-nav").get_by_role("link", name="Home").count() == 1

    page.select_option("#lang-select", "vi")
    page.click(".lang-switch button[type=submit]")
    page.wait_for_load_state("load")
    page.check_a11y()
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("nav.main-nav").get_by_role("link", name="Trang chủ").count() == 1


def test_a_wrong_code_is_refused_with_a_readable_message(portal, world):
    secret = enrol_totp(world.users["a_chief"])
    page = portal()
    page.goto("/accounts/login/")
    page.check_a11y()
    page.fill("#id_login", "a_chief")
    page.fill("#id_password", "demo-Password-2026")
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    page.check_a11y()
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    page.fill("#id_code", wrong)
    page.click("main form button.btn-primary")
    page.wait_for_load_state("load")
    page.check_a11y()
    assert "/accounts/2fa/authenticate/" in page.url
    assert page.locator("#id_code").get_attribute("aria-invalid") == "true"
    assert page.locator("#id_code-error").inner_text().strip()


def test_an_officer_without_mfa_is_sent_to_enrolment_and_enrols_by_scanning(portal, world):
    page = portal()
    sign_in(page, "officer")
    assert page.path() == "/accounts/2fa/totp/activate/", page.url
    page.check_a11y()
    # Every other page sends the officer back here.
    page.goto("/account/")
    page.check_a11y()
    assert page.path() == "/accounts/2fa/totp/activate/"
    # "Scan" the code: the page shows the secret (and a QR code of it).
    assert page.locator("img[src^='data:image/svg+xml']").count() == 1
    secret = page.locator("#authenticator_secret").input_value()
    assert len(secret) >= 16
    page.fill("#id_code", totp_code(secret))
    page.click("main form button.btn-primary")
    page.wait_for_load_state("load")
    page.check_a11y()
    # allauth shows the new recovery codes; then the portal opens.
    assert "/accounts/2fa/recovery-codes/" in page.url, page.url
    assert page.locator("#recovery_codes").input_value().strip()
    page.goto("/")
    page.check_a11y()
    assert page.path() == "/"
    assert world.users["officer"].authenticator_set.filter(type="totp").exists()


def test_the_home_page_fits_a_320px_screen(portal, world):
    page = portal(width=320, height=640)
    sign_in(page, "a_preparer")  # no second factor for preparers
    assert page.path() == "/"
    page.check_a11y()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the home page scrolls sideways by {overflow}px at 320px"
    # The language switch and the sign-out stay reachable: behind the menu button.
    menu = page.get_by_role("button", name="Trình đơn")
    assert not page.locator("#lang-select").is_visible()
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    assert page.locator("#lang-select").is_visible()
    assert page.get_by_role("button", name="Đăng xuất").is_visible()


def test_the_login_page_fits_a_320px_screen(portal, world):
    page = portal(width=320, height=640)
    page.goto("/accounts/login/")
    page.check_a11y()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the login page scrolls sideways by {overflow}px at 320px"
