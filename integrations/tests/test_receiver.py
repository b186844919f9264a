"""End to end against a real HTTP receiver on 127.0.0.1 (http.server in a
thread): a voucher's status change → the collector → the deliverer → the
receiver gets the signed body, verified with the Standard Webhooks library."""

import json

import pytest
from django.test import override_settings
from standardwebhooks.webhooks import Webhook

from integrations import services
from integrations.models import DeliveryState, WebhookAttempt, WebhookDelivery
from integrations.tasks import collect_webhook_events, deliver_webhooks

pytestmark = pytest.mark.django_db


def _register(world, receiver):  # noqa: ANN001, ANN202
    return services.endpoint_create(
        actor=world.users["a_holder"], organisation=world.units["a"], url=receiver.url,
        event_types=["voucher.status_changed"],
    )


def test_a_voucher_status_change_reaches_the_receiver_signed(world, kit, receiver):
    endpoint, secret = _register(world, receiver)
    voucher = kit.submitted(2_500_000)
    collect_webhook_events()
    assert deliver_webhooks() == 2  # created (→ draft), then submitted
    assert deliver_webhooks() == 0  # nothing left: nothing sent twice
    assert len(receiver.requests) == 2
    bodies = []
    for request in receiver.requests:
        assert request["path"] == "/hooks/treasury"
        assert request["headers"]["Content-Type"] == "application/json"
        bodies.append(Webhook(secret).verify(request["body"], request["headers"]))
    submitted = next(b for b in bodies if b["data"]["to_status"] == "submitted")
    assert submitted["type"] == "voucher.status_changed"
    assert submitted["data"]["voucher_number"] == voucher.number
    assert submitted["data"]["total_amount"] == 2_500_000
    headers = receiver.requests[bodies.index(submitted)]["headers"]
    assert headers["webhook-id"] == submitted["id"]
    delivery = WebhookDelivery.objects.get(event__public_id=submitted["id"].removeprefix("msg_"))
    assert delivery.status == DeliveryState.SUCCEEDED and delivery.last_status_code == 200
    assert WebhookAttempt.objects.get(delivery=delivery).succeeded


def test_a_refusing_receiver_is_retried_then_served(world, kit, receiver):
    endpoint, secret = _register(world, receiver)
    kit.draft(1_000_000)
    collect_webhook_events()
    receiver.statuses = [500]
    deliver_webhooks()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryState.PENDING and delivery.attempts == 1
    assert delivery.last_status_code == 500 and delivery.last_error == "http_status"
    deliver_webhooks()  # not due yet (5 s)
    assert len(receiver.requests) == 1
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    deliver_webhooks()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryState.SUCCEEDED and delivery.attempts == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    assert receiver.requests[0]["headers"]["webhook-id"] == receiver.requests[1]["headers"]["webhook-id"]
    assert json.loads(receiver.requests[1]["body"])["data"]["to_status"] == "draft"


def test_production_settings_never_call_a_loopback_receiver(world, kit, receiver):
    endpoint, secret = _register(world, receiver)  # registered while allowed (tests' settings)
    kit.draft(1_000_000)
    collect_webhook_events()
    with override_settings(WEBHOOKS_ALLOW_HTTP=True, WEBHOOKS_ALLOW_PRIVATE=False):
        deliver_webhooks()
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.get(delivery__endpoint=endpoint)
    assert attempt.error == "private_address" and attempt.status_code is None
