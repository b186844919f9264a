"""The administrator's memberships page in Chromium: htmx gives a role and takes
it away without leaving the page (the panel is swapped in place), the
refusal of a fifth account holder shows in the panel, and axe passes after
each swap."""

import pytest

from accounts import services
from accounts.models import Membership
from tests.browser.test_small_screens import LAPTOP, _page
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_administrator_gives_and_takes_away_a_role_in_place(portal, world):
    UserFactory(username="ke_toan_moi", last_name="Trần Văn", first_name="Mới")
    page = _page(portal, world, "tadmin_b", LAPTOP)
    page.goto("/treasury/memberships/")
    page.check_a11y()
    page.fill("#org-code", "1023456")
    with page.expect_navigation():
        page.get_by_role("button", name="Xem").click()
    page.check_a11y()
    url = page.url

    page.fill("#id_username", "ke_toan_moi")
    page.select_option("#id_role", "chief_accountant")
    with page.expect_response(lambda r: r.url.endswith("/treasury/memberships/grant/")):
        page.get_by_role("button", name="Giao vai trò").click()
    panel = page.locator("#members")
    panel.get_by_text("Đã giao vai trò Kế toán trưởng cho Trần Văn Mới.").wait_for()
    assert page.url == url  # swapped in place, no new page
    assert "Kế toán trưởng: 2 / 3 người" in panel.inner_text()
    assert "Trần Văn Mới" in panel.locator("table").inner_text()
    page.check_a11y()

    page.once("dialog", lambda dialog: dialog.accept())  # "Thu hồi vai trò …?" (portal.js data-confirm)
    with page.expect_response(lambda r: "/revoke/" in r.url):
        panel.get_by_role("button", name="Thu hồi Kế toán trưởng · ke_toan_moi").click()
    panel.get_by_text("Đã thu hồi vai trò Kế toán trưởng của Trần Văn Mới.").wait_for()
    assert "Trần Văn Mới" not in page.locator("#members table").inner_text()
    assert not Membership.objects.filter(user__username="ke_toan_moi", is_active=True).exists()
    page.check_a11y()

    for _ in range(3):  # 4 of 4 account holders
        services.membership_grant(
            actor=world.users["tadmin_b"], user=UserFactory(), organisation=world.units["b"], role="account_holder"
        )
    page.fill("#id_username", "ke_toan_moi")
    page.select_option("#id_role", "account_holder")
    with page.expect_response(lambda r: r.url.endswith("/treasury/memberships/grant/")):
        page.get_by_role("button", name="Giao vai trò").click()
    page.locator("#members").get_by_text("Đơn vị đã có đủ 4 người giữ vai trò Chủ tài khoản").wait_for()
    assert not Membership.objects.filter(user__username="ke_toan_moi", role="account_holder").exists()
    page.check_a11y()
