"""Hand-over in Chromium: a leader reassigns a voucher in control to another
control officer; the new officer finds it in their queue and can give it back;
the unit sees who holds its voucher and the hand-over in its timeline. Every
page visited is checked with axe and the CSP recorder."""

import pytest
from django.test import Client

from conftest import enrol_totp
from tests.browser.conftest import PortalPage
from vouchers.models import Voucher
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


def test_a_leader_reassigns_a_voucher_and_everyone_sees_who_holds_it(portal, world):  # noqa: ANN001
    seed(world)
    for username in ("officer", "officer2", "approver", "a_holder"):  # signers and officers have MFA
        enrol_totp(world.users[username])
    kit = Kit(world)
    voucher = kit.in_control("officer")
    detail = f"/vouchers/{voucher.pk}/"

    # The leader opens the voucher, picks the other control officer and gives it over.
    leader = _page(portal, world, "approver")
    _goto(leader, detail)
    assert "Nguyễn Văn Kiểm" in leader.locator(".holder").inner_text()
    leader.select_option("#id_reassign-officer", "officer2")
    leader.fill("#id_reassign-note", "Anh Kiểm nghỉ ốm, chị Soát tiếp nhận")
    _click(leader, leader.get_by_role("button", name="Giao lại"))
    assert "Đã giao chứng từ cho cán bộ kiểm soát khác." in leader.locator(".messages").inner_text()
    assert Voucher.objects.get(pk=voucher.pk).controller == world.users["officer2"]

    # The new officer finds it in their queue, under their name, and may give it back.
    officer2 = _page(portal, world, "officer2")
    _goto(officer2, "/treasury/queue/?status=in_control")
    row = officer2.locator("tr", has=officer2.locator(f"a[href='{detail}']"))
    assert row.count() == 1 and "Trần Thị Soát" in row.inner_text()
    _click(officer2, row.locator(f"a[href='{detail}']"))
    assert officer2.locator("#f-release").count() == 1
    assert officer2.get_by_role("button", name="Kiểm soát đạt").count() == 1

    # The former holder no longer has the controller's actions.
    officer = _page(portal, world, "officer")
    _goto(officer, detail)
    assert officer.locator("#f-release").count() == 0
    assert officer.get_by_role("button", name="Kiểm soát đạt").count() == 0

    # The unit sees who holds its voucher, and the hand-over in the timeline.
    holder = _page(portal, world, "a_holder")
    _goto(holder, detail)
    assert "Trần Thị Soát" in holder.locator(".holder").inner_text()
    labels = [t.strip() for t in holder.locator(".timeline > li strong").all_inner_texts()]
    assert "Giao cán bộ kiểm soát khác: Trần Thị Soát" in labels
    assert "Anh Kiểm nghỉ ốm, chị Soát tiếp nhận" in holder.locator(".timeline").inner_text()
