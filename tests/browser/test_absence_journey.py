"""Out-of-office with a delegate in Chromium: a control officer declares an
absence with a colleague as delegate on the absences page; the delegate opens
the absent officer's voucher, which says who stands in, and gives it back to
the office's queue as its holder; the unit reads the hand-over in the
timeline; the leader sees the office's absence and cancels it. Every page is
checked with axe."""

import pytest
from django.utils import timezone

from accounts.models import Absence
from conftest import enrol_totp
from tests.browser.test_reassign_journey import _click, _goto, _page
from vouchers.models import Voucher
from vouchers.tests.kit import Kit, seed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_officer_away_hands_the_queue_to_a_delegate(portal, world):  # noqa: ANN001
    seed(world)
    for username in ("officer", "officer2", "approver", "a_holder"):
        enrol_totp(world.users[username])
    voucher = Kit(world).in_control("officer")
    detail = f"/vouchers/{voucher.pk}/"
    today = timezone.localdate().isoformat()

    officer = _page(portal, world, "officer")
    _goto(officer, "/account/absences/")
    officer.select_option("#id_delegate", "officer2")
    officer.fill("#id_starts_on", today)
    officer.fill("#id_ends_on", today)
    officer.fill("#id_note", "Nghỉ phép")
    _click(officer, officer.get_by_role("button", name="Ghi lịch vắng mặt"))
    assert "người thay: Trần Thị Soát" in officer.locator(".messages").inner_text()
    assert "Đang vắng" in officer.locator("#absences-mine-caption ~ tbody").inner_text()

    delegate = _page(portal, world, "officer2")
    _goto(delegate, detail)
    assert "người thay: Trần Thị Soát" in delegate.locator(".holder").inner_text()
    delegate.fill("#id_release-note", "Chuyển về hàng chờ thay anh Kiểm")
    _click(delegate, delegate.get_by_role("button", name="Trả về hàng chờ"))
    assert Voucher.objects.get(pk=voucher.pk).status == "submitted"

    holder = _page(portal, world, "a_holder")
    _goto(holder, detail)
    labels = [t.strip() for t in holder.locator(".timeline > li strong").all_inner_texts()]
    assert "Người thay nhận chứng từ của cán bộ vắng mặt: Nguyễn Văn Kiểm → Trần Thị Soát" in labels

    leader = _page(portal, world, "approver")
    _goto(leader, "/account/absences/")
    office = leader.locator("#absences-office-caption ~ tbody")
    assert "Nguyễn Văn Kiểm" in office.inner_text()
    _click(leader, office.get_by_role("button", name="Hủy lịch vắng mặt của Nguyễn Văn Kiểm", exact=False))
    assert Absence.objects.get().cancelled_by == world.users["approver"]
