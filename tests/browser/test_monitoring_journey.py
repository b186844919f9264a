"""Risk monitoring in Chromium: a voucher repeating another one (same payee
account and amount, another unit) → the evaluation task (run here directly, as
the beat would every minute) raises a high-severity alert → the control
officer sees the warning on the voucher page above the decision → the unit
explains on the alert's page → the leader sees it among the open alerts on the
office's dashboard, resolves it, and the dashboard no longer counts it. Every page is checked with axe and the CSP."""

import pytest

from conftest import enrol_totp
from monitoring.models import Alert
from monitoring.tasks import evaluate_new_events
from tests.browser.test_voucher_journey import Journey
from vouchers.tests.kit import Kit, seed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _open_alerts(page) -> str:  # noqa: ANN001
    """The dashboard's open-alerts section: its chart and its table fallback."""
    return page.locator("section", has=page.locator("#dash-alerts-h")).text_content()


def test_duplicate_voucher_alert_journey(portal, world):
    seed(world)
    for username in ("a_holder", "b_holder", "officer_b", "approver_b"):
        enrol_totp(world.users[username])
    Kit(world, "a").submitted(3_210_000)  # unit A paid this account this amount
    voucher = Kit(world, "b").in_control("officer_b", amount=3_210_000)  # unit B files the same

    assert evaluate_new_events.apply().get() >= 2
    alert = Alert.objects.get(rule__code="duplicate_payment")
    assert alert.voucher_id == voucher.pk

    journey = Journey(portal, world)

    # The control officer sees the warning before deciding.
    officer = journey.page("officer_b")
    journey.goto(officer, f"/vouchers/{voucher.pk}/")
    panel = officer.locator("#v-risk").locator("..")
    assert "Cảnh báo rủi ro mức cao" in panel.inner_text()
    assert "3.210.000" in panel.inner_text()
    html = officer.content()
    assert html.index('id="v-risk"') < html.index('id="v-actions"')

    # The unit explains on the alert's page.
    unit = journey.page("b_holder")
    journey.goto(unit, "/monitoring/alerts/?status=active")
    journey.click(unit, unit.get_by_role("link", name="Có thể thanh toán trùng"))
    unit.fill("#id_explain-note", "Hai đợt giao hàng theo hai phụ lục hợp đồng khác nhau.")
    journey.click(unit, unit.get_by_role("button", name="Gửi giải trình"))
    assert "Đã gửi giải trình." in unit.locator("main").inner_text()
    assert unit.locator(".alert-status").inner_text() == "Đã giải trình"

    # The leader reads the explanation and resolves it.
    leader = journey.page("approver_b")
    journey.goto(leader, "/")
    assert "Có thể thanh toán trùng: 1" in leader.locator("main").inner_text()
    journey.goto(leader, "/monitoring/dashboard/")
    assert "Có thể thanh toán trùng" in _open_alerts(leader)
    journey.goto(leader, f"/monitoring/alerts/{alert.pk}/")
    assert "Hai đợt giao hàng" in leader.locator(".alert-explanation").inner_text()
    leader.fill("#id_resolve-note", "Đã đối chiếu hai phụ lục: không trùng.")
    journey.click(leader, leader.get_by_role("button", name="Đánh dấu đã xử lý xong"))
    assert leader.locator(".alert-status").inner_text() == "Đã xử lý xong"
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert list(alert.events.values_list("action", flat=True)) == ["raise", "explain", "resolve"]
    journey.goto(leader, "/monitoring/dashboard/")
    assert "Có thể thanh toán trùng" not in _open_alerts(leader)

    # Resolved: the voucher page no longer warns.
    journey.goto(officer, f"/vouchers/{voucher.pk}/")
    assert officer.locator("#v-risk").count() == 0
