"""Endpoints, the collector over the lower apps' event rows, the deliverer's
claim, the retry schedule, switching a failing endpoint off, replays."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from integrations import services, transport
from integrations.models import (
    DeliveryState,
    EndpointStatus,
    WebhookAttempt,
    WebhookCursor,
    WebhookDelivery,
)
from integrations.services import RETRY_DELAYS, attempt_record, delivery_claim_one, events_collect
from integrations.transport import Answer
from payments.models import Notification, NotificationKind
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

ALL = ["voucher.status_changed", "payment.succeeded", "payment.failed", "balance.changed"]


def _endpoint(world, unit="a", user="a_holder", url="https://erp.example.com/hooks", types=ALL):  # noqa: ANN001, ANN202
    endpoint, secret = services.endpoint_create(
        actor=world.users[user], organisation=world.units[unit], url=url, event_types=types,
    )
    return endpoint


def _fail(delivery, status=503):  # noqa: ANN001, ANN202
    claim = delivery_claim_one(delivery.pk)
    assert claim is not None
    return attempt_record(delivery_id=delivery.pk, claim=claim, answer=Answer(status, "http_status", "", 5),
                          started_at=timezone.now())


def _due_now(delivery) -> None:  # noqa: ANN001
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


# --- endpoints -------------------------------------------------------------------------


def test_signers_and_supplier_clerks_register_preparers_may_not(world):
    endpoint, secret = services.endpoint_create(
        actor=world.users["a_chief"], organisation=world.units["a"], url="https://erp.example.com/h",
        event_types=["voucher.status_changed", "voucher.status_changed"],
    )
    assert secret.startswith("whsec_") and endpoint.secret == secret
    assert endpoint.event_types == ["voucher.status_changed"]
    with pytest.raises(PermissionDenied):
        services.endpoint_create(actor=world.users["a_preparer"], organisation=world.units["a"],
                                 url="https://erp.example.com/h", event_types=ALL)
    with pytest.raises(NotFound):  # another unit's: as if it did not exist
        services.endpoint_create(actor=world.users["a_holder"], organisation=world.units["b"],
                                 url="https://erp.example.com/h", event_types=ALL)
    supplier, _secret = services.endpoint_create(
        actor=world.users["evn_clerk"], organisation=world.suppliers["evn"], url="https://billing.example.com/h",
        event_types=["autopay.invoice_paid", "voucher.status_changed"],
    )
    assert supplier.event_types == ["autopay.invoice_paid"]  # a supplier hears of its invoices only
    with pytest.raises(ApplicationError) as exc:
        services.endpoint_create(actor=world.users["evn_clerk"], organisation=world.suppliers["evn"],
                                 url="https://billing.example.com/h", event_types=["balance.changed"])
    assert exc.value.code == "event_type_not_available"


@override_settings(WEBHOOKS_ALLOW_HTTP=False, WEBHOOKS_ALLOW_PRIVATE=False)
@pytest.mark.parametrize("url, code", [
    ("http://erp.example.com/h", "https_required"),
    ("https://127.0.0.1/h", "private_address"),
    ("https://10.1.2.3:8443/h", "private_address"),
    ("https://169.254.169.254/latest/meta-data", "private_address"),
    ("https://localhost/h", "private_address"),
    ("https://[::1]/h", "private_address"),
    ("ftp://erp.example.com/h", "https_required"),
])
def test_production_refuses_plain_http_and_private_networks(world, url, code):
    assert transport.url_problem(url) == code
    with pytest.raises(ValidationFailed) as exc:
        _endpoint(world, url=url)
    assert "url" in exc.value.fields


@override_settings(WEBHOOKS_ALLOW_HTTP=False, WEBHOOKS_ALLOW_PRIVATE=False)
def test_production_accepts_a_public_https_address(world):
    assert transport.url_problem("https://erp.example.com:8443/hooks?unit=1") is None
    assert transport.url_problem("https://8.8.8.8/h") is None
    assert _endpoint(world).status == EndpointStatus.ENABLED


@override_settings(WEBHOOKS_ALLOW_PRIVATE=False)
def test_a_name_resolving_to_a_private_address_is_not_called(world, monkeypatch):
    calls = []
    monkeypatch.setattr(transport.socket, "create_connection", lambda *a, **k: calls.append(a))
    answer = transport.post("http://localhost.example.invalid/h", b"{}", {})  # not resolvable: connection_failed
    assert answer.error == "connection_failed"
    monkeypatch.setattr(transport.socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("192.168.1.5", 443))])
    answer = transport.post("https://erp.example.com/h", b"{}", {})
    assert answer.error == "private_address" and not answer.ok
    assert calls == []  # refused before connecting


def test_at_most_ten_endpoints_per_organisation(world):
    for _n in range(services.MAX_ENDPOINTS):
        _endpoint(world)
    with pytest.raises(ApplicationError) as exc:
        _endpoint(world)
    assert exc.value.code == "too_many_endpoints"


# --- events: the cursor -------------------------------------------------------------------


def test_a_voucher_transition_becomes_one_event_and_one_delivery(world, kit):
    endpoint = _endpoint(world, types=["voucher.status_changed"])
    voucher = kit.submitted(2_000_000)
    assert events_collect() >= 1
    events_collect()  # a second run finds nothing new
    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event"))
    # Created (→ draft) and submitted: each transition once.
    assert sorted(d.event.payload["to_status"] for d in deliveries) == ["draft", "submitted"]
    event = next(d.event for d in deliveries if d.event.payload["to_status"] == "submitted")
    assert event.payload["voucher_number"] == voucher.number and event.payload["from_status"] == "draft"
    assert event.payload["unit"] == world.units["a"].code
    assert WebhookCursor.objects.get(name="voucher_event").last_id > 0


def test_other_units_and_unsubscribed_types_get_nothing(world, kit):
    other = _endpoint(world, unit="b", user="b_holder")
    balance_only = _endpoint(world, types=["balance.changed"])
    kit.submitted(2_000_000)
    events_collect()
    assert not WebhookDelivery.objects.filter(endpoint=other).exists()
    assert not WebhookDelivery.objects.filter(endpoint=balance_only).exists()


def test_payments_balances_and_autopay_make_their_events(world):
    from autopay import services as autopay
    from autopay.tests.autopay_kit import autopay_kit
    from payments.models import PaymentIntent
    from payments.services import ledger
    from vouchers.payment.services import payment_intent_process

    kit = autopay_kit(world, "a")
    unit_endpoint = _endpoint(world, types=ALL + ["autopay.invoice_paid"])
    supplier_endpoint, _secret = services.endpoint_create(
        actor=world.users["evn_clerk"], organisation=world.suppliers["evn"], url="https://billing.example.com/h",
        event_types=["autopay.invoice_paid", "autopay.invoice_exception"],
    )
    ledger.deposit_credit(actor=None, account=kit.deposit, amount=9_000_000, reference="wh-1")
    voucher = kit.approve(kit.pending(1_700_000, from_deposit=True))
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=voucher).pk, worker="test")
    kit.active_authorization(codes=("PE0001",))
    kit.invoice("PE0001", 1_000_000)
    autopay.autopay_run()
    events_collect()
    unit_events = {d.event.type: d.event.payload
                   for d in WebhookDelivery.objects.filter(endpoint=unit_endpoint).select_related("event")}
    assert {"voucher.status_changed", "payment.succeeded", "balance.changed", "autopay.invoice_paid"} <= set(
        unit_events)
    assert unit_events["payment.succeeded"]["voucher_number"] == voucher.number
    balances = [d.event.payload["amount"] for d in WebhookDelivery.objects.filter(
        endpoint=unit_endpoint, event__type="balance.changed").select_related("event")]
    assert 9_000_000 in balances and -1_700_000 in balances
    supplier_events = list(WebhookDelivery.objects.filter(endpoint=supplier_endpoint).select_related("event"))
    assert [d.event.type for d in supplier_events] == ["autopay.invoice_paid"]
    assert supplier_events[0].event.payload["amount"] == 1_000_000


def test_an_event_older_than_the_endpoint_is_not_sent(world, kit):
    kit.submitted(2_000_000)
    endpoint = _endpoint(world)
    events_collect()
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()


def test_a_row_committed_behind_the_cursor_is_caught_by_the_rescan(world, kit):
    endpoint = _endpoint(world, types=["voucher.status_changed"])
    kit.submitted(2_000_000)
    from vouchers.models import VoucherEvent

    last = VoucherEvent.objects.order_by("-pk").first()
    # As if that event's transaction committed after a later one had moved the cursor past it.
    WebhookCursor.objects.update_or_create(name="voucher_event", defaults={"last_id": last.pk})
    events_collect()
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event__source=f"voucher_event:{last.pk}").exists()


# --- delivery: claims, retries, failure ----------------------------------------------------


def _one_delivery(world, kit):  # noqa: ANN001, ANN202
    endpoint = _endpoint(world, types=["voucher.status_changed"])
    kit.submitted(2_000_000)
    events_collect()
    # The voucher's creation (→ draft) is a delivery too: keep the submission's only.
    WebhookDelivery.objects.filter(endpoint=endpoint).exclude(event__payload__to_status="submitted").delete()
    return endpoint, WebhookDelivery.objects.get(endpoint=endpoint)


def test_a_delivery_task_run_twice_sends_once(world, kit, monkeypatch):
    _endpoint_, delivery = _one_delivery(world, kit)
    sent = []
    monkeypatch.setattr(transport, "post", lambda url, body, headers: sent.append(headers) or Answer(200, "", "", 3))
    from integrations.tasks import deliver_webhook

    assert deliver_webhook(delivery.pk) == "attempted"
    assert deliver_webhook(delivery.pk) == "skipped"
    assert services.deliveries_deliver() == 0
    assert len(sent) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryState.SUCCEEDED and delivery.attempts == 1


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_runs_out(world, kit):
    _endpoint_, delivery = _one_delivery(world, kit)
    first = delivery_claim_one(delivery.pk)
    assert first is not None
    assert delivery_claim_one(delivery.pk) is None
    assert services.deliveries_claim()[1] == []
    WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    second = delivery_claim_one(delivery.pk)
    assert second is not None
    # The first deliverer's late answer is not recorded: its claim was taken over.
    assert attempt_record(delivery_id=delivery.pk, claim=first, answer=Answer(200, "", "", 1),
                          started_at=timezone.now()) is None


def test_retries_follow_the_schedule_then_fail_for_good(world, kit):
    endpoint, delivery = _one_delivery(world, kit)
    waits = []
    for n in range(services.MAX_ATTEMPTS):
        before = timezone.now()
        delivery = _fail(delivery)
        if n < len(RETRY_DELAYS):
            assert delivery.status == DeliveryState.PENDING
            waits.append(delivery.next_attempt_at - before)
            _due_now(delivery)
    assert delivery.status == DeliveryState.FAILED and delivery.attempts == 8
    assert [round(w.total_seconds() / 5) * 5 for w in waits] == [
        5, 300, 1800, 7200, 18000, 36000, 36000]
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")) == [
        (n, 503) for n in range(1, 9)]
    endpoint.refresh_from_db()
    assert endpoint.failed_deliveries == 1 and endpoint.failing_since is not None


def test_a_success_clears_the_failure_counters(world, kit):
    endpoint, delivery = _one_delivery(world, kit)
    delivery = _fail(delivery)
    _due_now(delivery)
    claim = delivery_claim_one(delivery.pk)
    attempt_record(delivery_id=delivery.pk, claim=claim, answer=Answer(204, "", "", 2), started_at=timezone.now())
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.failed_deliveries == 0


def test_ten_deliveries_failed_for_good_switch_the_endpoint_off_and_tell_its_owners(world, kit):
    endpoint, delivery = _one_delivery(world, kit)
    services.WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failed_deliveries=9)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=services.MAX_ATTEMPTS - 1)
    delivery = _fail(delivery)
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.DISABLED and endpoint.disabled_reason == "failing"
    notices = Notification.objects.filter(kind=NotificationKind.INTEGRATION)
    assert {n.user.username for n in notices} == {"a_holder", "a_chief"}
    assert endpoint.url in notices[0].body
    # Nothing is sent to it while it is off; switched on, its waiting rows are due again.
    kit.submitted(3_000_000)
    events_collect()
    assert services.deliveries_claim()[1] == []
    services.endpoint_enable(actor=world.users["a_holder"], endpoint=endpoint)
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.ENABLED and endpoint.failed_deliveries == 0


def test_failing_for_a_day_switches_the_endpoint_off(world, kit):
    endpoint, delivery = _one_delivery(world, kit)
    services.WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(hours=24, minutes=1))
    _fail(delivery)
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.DISABLED


def test_a_few_failures_do_not_switch_it_off(world, kit):
    endpoint, delivery = _one_delivery(world, kit)
    for _n in range(3):
        delivery = _fail(delivery)
        _due_now(delivery)
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.ENABLED


def test_replay_sends_again_with_the_same_id_on_a_fresh_schedule(world, kit, monkeypatch):
    endpoint, delivery = _one_delivery(world, kit)
    sent = []
    monkeypatch.setattr(transport, "post", lambda url, body, headers: sent.append(headers) or Answer(200, "", "", 3))
    services.deliveries_deliver()
    replayed = services.delivery_replay(actor=world.users["a_chief"], delivery=delivery)
    assert replayed.status == DeliveryState.PENDING and replayed.replays == 1 and replayed.attempts == 0
    services.delivery_replay(actor=world.users["a_chief"], delivery=delivery)  # still pending: unchanged
    services.deliveries_deliver()
    assert len(sent) == 2 and sent[0]["webhook-id"] == sent[1]["webhook-id"]
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2
    delivery.refresh_from_db()
    assert delivery.replays == 1 and delivery.status == DeliveryState.SUCCEEDED
    with pytest.raises(PermissionDenied):
        services.delivery_replay(actor=world.users["a_preparer"], delivery=delivery)
    services.endpoint_disable(actor=world.users["a_holder"], endpoint=endpoint)
    with pytest.raises(ApplicationError) as exc:
        services.delivery_replay(actor=world.users["a_holder"], delivery=delivery)
    assert exc.value.code == "endpoint_disabled"


def test_rotating_the_secret_signs_the_next_attempt_with_the_new_one(world, kit, monkeypatch):
    from integrations import signing

    endpoint, delivery = _one_delivery(world, kit)
    seen = []
    monkeypatch.setattr(transport, "post", lambda url, body, headers: seen.append((body, headers))
                        or Answer(200, "", "", 1))
    _endpoint_, secret = services.endpoint_rotate_secret(actor=world.users["a_holder"], endpoint=endpoint)
    assert secret != endpoint.secret
    services.deliveries_deliver()
    body, headers = seen[0]
    assert signing.verify(secret, headers, body) and not signing.verify(endpoint.secret, headers, body)
