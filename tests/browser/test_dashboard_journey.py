"""The leader dashboard and the satisfaction follow-up in Chromium: a unit rates
a paid voucher "dissatisfied" → the task opens a follow-up → the leader sees the
share on the dashboard (charts and tables), opens the follow-ups, assigns it to
a control officer → the officer notes the call and closes it; the public page
shows the office's rates to anyone, in both languages. Every page is checked
with axe-core, the CSP and the language rules."""

import pytest
from django.conf import settings

from conftest import enrol_totp
from monitoring.models import FollowUp
from monitoring.tasks import open_satisfaction_followups
from tests import language_check
from tests.browser.test_voucher_journey import Journey
from vouchers import services as voucher_services
from vouchers.tests.kit import Kit, seed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _one_language(page, lang: str) -> None:  # noqa: ANN001
    findings = language_check.findings(page.content(), lang, language_check.allowed_from_database())
    assert findings == [], findings


def test_dissatisfied_rating_to_dashboard_and_follow_up(portal, world):
    seed(world)
    for username in ("b_holder", "officer_b", "approver_b"):
        enrol_totp(world.users[username])
    kit = Kit(world, "b")
    voucher = kit.approved(approver="approver_b", officer="officer_b", amount=2_500_000)
    voucher.refresh_from_db()  # approval queues the payment on commit: here it may be paid already
    paid = voucher if voucher.status == "paid" else voucher_services.voucher_mark_paid(voucher=voucher)
    voucher_services.voucher_rate(actor=world.users["b_holder"], voucher=paid, score=1, comment="Phải đi lại hai lần")
    assert open_satisfaction_followups.apply().get() == 1
    followup = FollowUp.objects.get()

    journey = Journey(portal, world)
    leader = journey.page("approver_b")
    journey.goto(leader, "/monitoring/dashboard/")
    main = leader.locator("main").inner_text()
    assert "Bảng điều hành" in main and "0%" in leader.locator("#dash-satisfied").inner_text()
    assert leader.locator("svg.chart-svg").count() >= 2
    _one_language(leader, "vi")
    journey.click(leader, leader.get_by_role("link", name="Phản ánh không hài lòng đang theo dõi: 1"))
    journey.click(leader, leader.get_by_role("link", name=paid.number))
    leader.select_option("#id_assign-assignee", "officer_b")
    journey.click(leader, leader.get_by_role("button", name="Giao việc"))
    assert "Đã giao việc theo dõi." in leader.locator("main").inner_text()

    officer = journey.page("officer_b")
    journey.goto(officer, f"/monitoring/followups/{followup.pk}/")
    officer.fill("#id_note-note", "Đã gọi điện cho chủ tài khoản, giải thích lịch tiếp nhận.")
    journey.click(officer, officer.get_by_role("button", name="Lưu nội dung liên hệ"))
    officer.fill("#id_close-note", "Đơn vị đã hài lòng với giải thích.")
    journey.click(officer, officer.get_by_role("button", name="Đóng", exact=True))
    assert officer.locator(".followup-status").inner_text() == "Đã đóng"
    followup.refresh_from_db()
    assert followup.status == "closed"

    # Anyone, in both languages.
    for lang in ("vi", "en"):
        public = portal(locale="vi-VN" if lang == "vi" else "en-GB")
        public.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": public.base_url}])
        public.goto("/satisfaction/")
        public.check_a11y()
        assert world.offices["0201"].name in public.locator("main").inner_text()
        _one_language(public, lang)
    english = journey.page("approver_b")
    english.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": english.base_url}])
    journey.goto(english, "/monitoring/dashboard/")
    assert "Dashboard" in english.locator("main").inner_text()
    _one_language(english, "en")
