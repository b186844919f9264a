"""Phones and small screens, in Chromium at 375×812 (a phone) and 1366×768 (a
common office laptop): the header's menu button opens and closes the
navigation, no page scrolls sideways, the autopay exceptions' actions stay in
view, chart labels keep a readable size, and every page passes axe.

Set SCREENSHOTS=/some/dir to keep a picture of each page (for a person to look at).
"""

import os
from pathlib import Path

import pytest
from django.test import Client

from autopay import services as autopay
from conftest import enrol_totp
from payments.models import PaymentIntent
from payments.tests.kit import Kit, seed_money
from tests.browser.conftest import PortalPage
from vouchers.payment.services import payment_intent_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
LAPTOP = {"width": 1366, "height": 768}
SHOTS = os.environ.get("SCREENSHOTS")
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def _page(portal, world, username: str, size: dict) -> PortalPage:  # noqa: ANN001
    user = world.users[username]
    if not user.authenticator_set.exists():
        enrol_totp(user)
    client = Client()
    client.force_login(user)
    page = portal(**size)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.base_url}])
    return page


def _visit(page: PortalPage, path: str, size: dict) -> None:
    page.goto(path)
    page.check_a11y()
    if SHOTS:
        name = f"{size['width']}-{path.strip('/').replace('/', '_').replace('?', '_') or 'home'}.png"
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)
    overflow = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), (path, size, overflow)


@pytest.fixture
def pages_world(world):  # noqa: ANN001, ANN201
    """A paid voucher (result and advices), one awaiting approval, autopay exceptions."""
    from autopay.tests.autopay_kit import autopay_kit

    seed_money(world)
    kit = Kit(world, "a")
    paid = kit.approved(2_500_000)
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=paid).pk, worker="t")
    pending = kit.pending(1_750_000)
    auto = autopay_kit(world, "a")
    auto.active_authorization(codes=("PE0001",), cap_per_invoice=1_000_000, cap_per_month=2_000_000)
    auto.invoice("PE0001", 900_000)
    # Billing systems' long invoice numbers (kept on one line) make the table
    # wider than a 1366 px screen's page: the actions must stay in view anyway.
    auto.invoice("PE0001", 1_500_000, number="EVN-NPC-PE0001-2026-HOADON-GTGT-0000001501")
    auto.invoice("PE0001", 1_700_000, number="EVN-NPC-PE0001-2026-HOADON-GTGT-0000001702")
    autopay.autopay_run()
    account = kit.deposit
    return {
        "a_holder": ["/", "/vouchers/", f"/vouchers/{paid.pk}/", "/autopay/invoices/?status=exception",
                     f"/payments/accounts/{account.pk}/"],
        "approver": ["/treasury/queue/", f"/vouchers/{pending.pk}/", f"/vouchers/{pending.pk}/approve/",
                     "/payments/treasury/"],
        "tadmin": ["/treasury/autopay/exceptions/", "/treasury/memberships/?org=1012345", "/treasury/autopay/runs/"],
    }


def test_the_header_menu_opens_and_closes_on_a_phone_and_is_not_there_on_a_laptop(portal, world):
    phone = _page(portal, world, "a_holder", PHONE)
    _visit(phone, "/", PHONE)
    button = phone.get_by_role("button", name="Trình đơn")
    nav_link = phone.locator("nav.main-nav").get_by_role("link", name="Chứng từ")
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert not nav_link.is_visible()
    button.click()
    assert button.get_attribute("aria-expanded") == "true" and nav_link.is_visible()
    assert phone.get_by_role("button", name="Đăng xuất").is_visible()
    phone.check_a11y()  # the open menu passes axe too
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
    phone.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false" and not nav_link.is_visible()
    button.click()
    button.click()
    assert not nav_link.is_visible()

    laptop = _page(portal, world, "a_holder", LAPTOP)
    _visit(laptop, "/", LAPTOP)
    assert not laptop.get_by_role("button", name="Trình đơn").is_visible()
    assert laptop.locator("nav.main-nav").get_by_role("link", name="Chứng từ").is_visible()


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["375x812", "1366x768"])
def test_no_page_scrolls_sideways_and_every_page_passes_axe(portal, world, pages_world, size):
    for username, paths in pages_world.items():
        page = _page(portal, world, username, size)
        for path in paths:
            _visit(page, path, size)


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["375x812", "1366x768"])
def test_the_exceptions_actions_are_within_the_viewport(portal, world, pages_world, size):
    page = _page(portal, world, "tadmin", size)
    _visit(page, "/treasury/autopay/exceptions/", size)
    buttons = page.locator("table.data").get_by_role("button", name="Thử thanh toán lại hóa đơn")
    assert buttons.count() == 2
    for i in range(buttons.count()):
        button = buttons.nth(i)
        # Scroll the window vertically only: the table's box must not be scrolled
        # sideways (a person would not know the buttons are there).
        button.evaluate("b => window.scrollTo(0, b.getBoundingClientRect().top + window.scrollY - 200)")
        assert page.evaluate("document.querySelector('.table-wrap').scrollLeft") == 0
        box = button.bounding_box()
        wrap = page.locator(".table-wrap").first.bounding_box()
        assert box is not None and wrap is not None
        assert 0 <= box["x"] and box["x"] + box["width"] <= size["width"], (box, size)
        assert box["x"] + box["width"] <= wrap["x"] + wrap["width"], (box, wrap)  # not hidden in the scroll box
        assert page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y)?.closest('button')?.textContent.trim()",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        ) == "Thử thanh toán lại"  # on top, not under another cell


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["375x812", "1366x768"])
def test_chart_labels_keep_a_readable_size(portal, world, pages_world, size):
    """The text of a chart is drawn at 12 px or more on the screen, phone or not."""
    checks = {"approver": ["/treasury/queue/", "/payments/treasury/"], "a_holder": [pages_world["a_holder"][-1]]}
    for username, paths in checks.items():
        page = _page(portal, world, username, size)
        for path in paths:
            _visit(page, path, size)
            heights = page.evaluate(
                """() => [...document.querySelectorAll('svg.chart-svg text')]
                     .filter(t => t.getBoundingClientRect().width > 0)
                     .map(t => t.getBoundingClientRect().height)"""
            )
            assert heights, path
            assert min(heights) >= 12, (path, size, sorted(heights)[:5])
