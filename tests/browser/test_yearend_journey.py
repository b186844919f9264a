"""The year end in Chromium: in the adjustment period after the year, the
office's administrator opens the year end, ticks one open voucher to refuse,
gives the reason, checks the summary and confirms; the close carries the other
voucher and the page shows the year closed; the unit reads the reason in its
voucher's timeline. Every page visited is checked with axe and the CSP recorder."""

from datetime import date

import pytest
from django.test import Client

from conftest import enrol_totp
from payments.models import FiscalYearClose, FiscalYearCloseState
from payments.selectors import yearend as selectors
from payments.services.yearend import fiscal_year_close_set
from tests.browser.conftest import PortalPage
from vouchers.models import Voucher, VoucherStatus
from vouchers.tests.kit import Kit, seed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _page(portal, world, username: str) -> PortalPage:  # noqa: ANN001
    page = portal()
    client = Client()
    client.force_login(world.users[username])
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.base_url}])
    return page


def _goto(page: PortalPage, path: str) -> None:
    page.goto(path)
    page.check_a11y()


def _click(page: PortalPage, locator) -> None:  # noqa: ANN001
    with page.expect_navigation():
        locator.click()
    page.check_a11y()


def test_the_administrator_closes_the_year(portal, world, monkeypatch):  # noqa: ANN001
    seed(world)
    for username in ("officer", "tadmin", "a_holder", "a_preparer"):
        enrol_totp(world.users[username])
    kit = Kit(world)
    carried = kit.in_control("officer")
    refused = kit.submitted(650_000)
    monkeypatch.setattr(selectors, "_today", lambda: date(kit.fiscal_year + 1, 1, 20))  # the live server's thread too
    close = fiscal_year_close_set(actor=world.users["tadmin"], office=kit.unit.office, year=kit.fiscal_year)

    admin = _page(portal, world, "tadmin")
    _goto(admin, "/treasury/year-end/")
    _click(admin, admin.get_by_role("link", name=f"{close.office.code} – {close.office.name}"))
    assert admin.path() == f"/treasury/year-end/{close.pk}/"
    admin.get_by_label(f"Từ chối chứng từ {refused.number}").check()
    admin.fill("#close-note", "Hết thời gian chỉnh lý, hồ sơ chưa đủ")
    _click(admin, admin.get_by_role("button", name=f"Khóa sổ năm {kit.fiscal_year}…"))
    main = admin.locator("main").inner_text()
    assert refused.number in main and "Hết thời gian chỉnh lý, hồ sơ chưa đủ" in main
    assert FiscalYearClose.objects.get(pk=close.pk).state == FiscalYearCloseState.OPEN  # nothing yet
    _click(admin, admin.get_by_role("button", name="Xác nhận khóa sổ"))
    assert "Đang khóa sổ năm" in admin.locator(".messages").inner_text()
    admin.wait_for_function("document.querySelector('#yearend-progress').innerText.includes('Đã khóa sổ')",
                            timeout=15_000)
    close.refresh_from_db()
    assert close.state == FiscalYearCloseState.CLOSED and (close.carried, close.refused) == (1, 1)
    assert Voucher.objects.get(pk=refused.pk).status == VoucherStatus.REFUSED
    assert Voucher.objects.get(pk=carried.pk).status == VoucherStatus.IN_CONTROL

    unit = _page(portal, world, "a_preparer")
    _goto(unit, f"/vouchers/{refused.pk}/")
    main = unit.locator("main").inner_text()
    assert "Khóa sổ năm: từ chối" in main and "Hết thời gian chỉnh lý, hồ sơ chưa đủ" in main
