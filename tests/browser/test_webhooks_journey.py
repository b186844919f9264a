"""Integrator webhooks in Chromium: the unit's account holder registers an
endpoint pointing at a real receiver (http.server on 127.0.0.1, allowed by the
tests' settings), reads the secret once, a voucher is submitted, the beat's
two tasks (run here) deliver it signed; the endpoint's page shows the delivery
and its attempt; a failed delivery is replayed with the button. Every page is
checked with axe and the CSP, in Vietnamese and English."""

import pytest
from standardwebhooks.webhooks import Webhook

from conftest import enrol_totp
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.tasks import collect_webhook_events, deliver_webhooks
from integrations.tests.conftest import Receiver
from tests.browser.test_voucher_journey import Journey
from vouchers.tests.kit import Kit, seed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_register_deliver_and_replay(portal, world):
    seed(world)
    enrol_totp(world.users["a_holder"])
    receiver = Receiver()
    try:
        journey = Journey(portal, world)
        holder = journey.page("a_holder")
        journey.goto(holder, "/integrations/webhooks/")
        journey.click(holder, holder.get_by_role("link", name="Đăng ký điểm nhận"))
        holder.fill("#id_url", receiver.url)
        holder.fill("#id_description", "Phần mềm kế toán")
        holder.get_by_label("Chứng từ đổi trạng thái").check()
        journey.click(holder, holder.get_by_role("button", name="Đăng ký"))
        secret = holder.locator("[data-secret]").inner_text().strip()
        endpoint = WebhookEndpoint.objects.get()
        assert secret == endpoint.secret and secret.startswith("whsec_")

        voucher = Kit(world, "a").submitted(2_222_000)
        collect_webhook_events.apply()
        receiver.statuses = [200, 500]  # the draft's event is taken, the submission's refused
        deliver_webhooks.apply()
        assert len(receiver.requests) == 2
        for request in receiver.requests:
            Webhook(secret).verify(request["body"], request["headers"])

        journey.goto(holder, f"/integrations/webhooks/{endpoint.pk}/")
        assert secret not in holder.content()
        rows = holder.locator("tr.delivery-row")
        assert rows.count() == 2
        text = holder.locator("main").inner_text()
        assert "Đã gửi thành công" in text and "hệ thống nhận trả lời mã 500" in text

        failed = WebhookDelivery.objects.get(last_status_code=500)
        WebhookDelivery.objects.filter(pk=failed.pk).update(status="failed")
        journey.goto(holder, f"/integrations/webhooks/{endpoint.pk}/")
        failed_row = holder.locator("tr.delivery-row", has_text="hệ thống nhận trả lời mã 500")
        journey.click(holder, failed_row.get_by_role("button", name="Gửi lại"))
        assert "Đã xếp lượt gửi lại" in holder.locator("main").inner_text()
        deliver_webhooks.apply()
        assert len(receiver.requests) == 3
        assert receiver.requests[2]["headers"]["webhook-id"] == receiver.requests[1]["headers"]["webhook-id"]
        assert voucher.number.encode() in receiver.requests[2]["body"]

        english = journey.portal(locale="en-US")
        english.context.add_cookies(holder.context.cookies())
        english.context.add_cookies([{"name": "django_language", "value": "en", "url": english.base_url}])
        english.goto(f"/integrations/webhooks/{endpoint.pk}/")
        english.check_a11y()
        assert "Deliveries, newest first" in english.locator("main").inner_text()
    finally:
        receiver.close()
