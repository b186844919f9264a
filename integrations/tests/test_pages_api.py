"""The webhook API and pages: the secret once, scoping (another organisation's
endpoint is a 404), who may manage, deliveries with their attempts, replay."""

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations import services
from integrations.models import DeliveryState, WebhookDelivery, WebhookEvent
from integrations.services import attempt_record, delivery_claim_one
from integrations.transport import Answer

pytestmark = pytest.mark.django_db
CREATE = {"organisation": "", "url": "https://erp.example.com/hooks", "description": "ERP",
          "event_types": ["voucher.status_changed", "balance.changed"]}


def _failed_delivery(world, endpoint):  # noqa: ANN001, ANN202
    event = WebhookEvent.objects.create(
        organisation=endpoint.organisation, type="voucher.status_changed", source="test:1",
        payload={"voucher_number": "X-1", "to_status": "submitted"}, occurred_at=timezone.now(),
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, next_attempt_at=timezone.now())
    attempt_record(delivery_id=delivery.pk, claim=delivery_claim_one(delivery.pk),
                   answer=Answer(None, "timeout", "TimeoutError: timed out", 5000), started_at=timezone.now())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryState.FAILED)
    return delivery


def test_api_create_shows_the_secret_once(world, api):
    body = {**CREATE, "organisation": world.units["a"].code}
    created = api("a_holder").post("/api/v1/webhook-endpoints", body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["secret"].startswith("whsec_") and data["status"] == "enabled"
    detail = api("a_holder").get(f"/api/v1/webhook-endpoints/{data['id']}")
    assert detail.status_code == 200 and "secret" not in detail.json()
    assert data["secret"] not in detail.content.decode()
    assert detail.json()["allowed_actions"] == ["disable", "rotate_secret"]
    listed = api("a_preparer").get("/api/v1/webhook-endpoints").json()
    assert [e["id"] for e in listed["results"]] == [data["id"]]
    assert "secret" not in listed["results"][0]
    assert api("a_preparer").get(f"/api/v1/webhook-endpoints/{data['id']}").json()["allowed_actions"] == []
    rotated = api("a_chief").post(f"/api/v1/webhook-endpoints/{data['id']}/rotate-secret")
    assert rotated.status_code == 200 and rotated.json()["secret"] not in {data["secret"], ""}


def test_api_refusals(world, api):
    a = world.units["a"].code
    preparer = api("a_preparer").post("/api/v1/webhook-endpoints", {**CREATE, "organisation": a}, format="json")
    assert preparer.status_code == 403 and preparer.json()["code"] == "permission_denied"
    other = api("b_holder").post("/api/v1/webhook-endpoints", {**CREATE, "organisation": a}, format="json")
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    bad = api("a_holder").post("/api/v1/webhook-endpoints", {**CREATE, "organisation": a, "url": "ftp://x.example"},
                               format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"
    treasury = api("officer").get("/api/v1/webhook-endpoints")
    assert treasury.status_code == 403


def test_api_scoping_deliveries_and_replay(world, api):
    endpoint, _secret = services.endpoint_create(
        actor=world.users["b_holder"], organisation=world.units["b"], url="https://erp.example.com/h",
        event_types=["voucher.status_changed"],
    )
    delivery = _failed_delivery(world, endpoint)
    base = f"/api/v1/webhook-endpoints/{endpoint.pk}"
    for path in (base, f"{base}/deliveries"):
        assert api("a_holder").get(path).status_code == 404
    assert api("a_holder").post(f"{base}/deliveries/{delivery.pk}/replay").status_code == 404
    assert api("a_holder").post(f"{base}/disable").status_code == 404
    page = api("b_preparer").get(f"{base}/deliveries").json()
    row = page["results"][0]
    assert row["status"] == "failed" and row["webhook_id"].startswith("msg_") and row["can_replay"] is False
    assert row["attempt_list"][0]["error"] == "timeout" and row["attempt_list"][0]["status_code"] is None
    assert api("b_preparer").post(f"{base}/deliveries/{delivery.pk}/replay").status_code == 403
    replayed = api("b_chief").post(f"{base}/deliveries/{delivery.pk}/replay")
    assert replayed.status_code == 200 and replayed.json()["status"] == "pending" and replayed.json()["replays"] == 1
    off = api("b_holder").post(f"{base}/disable")
    assert off.status_code == 200 and off.json()["status"] == "disabled"
    assert off.json()["allowed_actions"] == ["enable", "rotate_secret"]
    assert api("b_holder").post(f"{base}/enable").json()["status"] == "enabled"


def test_pages_register_show_the_secret_once_and_replay(world, login):
    holder = login("a_holder")
    form = holder.get(reverse("webhook-endpoint-create"))
    assert form.status_code == 200
    answer = holder.post(reverse("webhook-endpoint-create"), {
        "organisation": world.units["a"].code, "url": "https://erp.example.com/hooks", "description": "ERP",
        "event_types": ["voucher.status_changed"],
    })
    assert answer.status_code == 200
    endpoint = services.WebhookEndpoint.objects.get()
    assert endpoint.secret in answer.content.decode()
    listing = holder.get(reverse("webhook-endpoints")).content.decode()
    assert endpoint.url in listing and endpoint.secret not in listing
    delivery = _failed_delivery(world, endpoint)
    detail = holder.get(reverse("webhook-endpoint", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in detail
    assert "Hết thời gian chờ trả lời" in detail and delivery.event.message_id in detail
    assert reverse("webhook-delivery-replay", args=[endpoint.pk, delivery.pk]) in detail
    done = holder.post(reverse("webhook-delivery-replay", args=[endpoint.pk, delivery.pk]))
    assert done.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryState.PENDING and delivery.replays == 1
    refused = holder.post(reverse("webhook-endpoint-create"), {
        "organisation": world.units["a"].code, "url": "ftp://erp.example.com", "event_types": ["balance.changed"],
    })
    assert refused.status_code == 400 and "https://" in refused.content.decode()


def test_the_page_in_english_and_preparers_without_buttons(world, login):
    endpoint, _secret = services.endpoint_create(
        actor=world.users["a_holder"], organisation=world.units["a"], url="https://erp.example.com/h",
        event_types=["voucher.status_changed"],
    )
    _failed_delivery(world, endpoint)
    preparer = login("a_preparer")
    page = preparer.get(reverse("webhook-endpoint", args=[endpoint.pk])).content.decode()
    assert "Gửi lại" not in page and "Tắt điểm nhận" not in page
    assert preparer.get(reverse("webhook-endpoint-create")).status_code == 404
    preparer.cookies["django_language"] = "en"
    english = preparer.get(reverse("webhook-endpoint", args=[endpoint.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Webhook endpoint" in english and "No answer in time" in english
    other = login("b_holder")
    assert other.get(reverse("webhook-endpoint", args=[endpoint.pk])).status_code == 404


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_support_staff_read_endpoints_and_deliveries_in_the_admin_without_the_secret(world, login, lang):
    from tests.language_check import allowed_from_database, findings

    endpoint, secret = services.endpoint_create(
        actor=world.users["a_holder"], organisation=world.units["a"], url="https://erp.example.com/h",
        event_types=["voucher.status_changed"],
    )
    delivery = _failed_delivery(world, endpoint)
    admin = login("tadmin")
    admin.cookies["django_language"] = lang
    allowed = allowed_from_database()
    pages = [
        reverse("admin:integrations_webhookendpoint_changelist"),
        reverse("admin:integrations_webhookendpoint_change", args=[endpoint.pk]),
        reverse("admin:integrations_webhookdelivery_changelist"),
        reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk]),
    ]
    for url in pages:
        response = admin.get(url, HTTP_ACCEPT_LANGUAGE=lang)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert secret not in html and endpoint.secret not in html, url
        assert findings(html, lang, allowed) == [], url
    detail = admin.get(pages[3], HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert ("Hết thời gian chờ trả lời" if lang == "vi" else "No answer in time") in detail
    # Read only: nothing to add or save.
    assert admin.get(reverse("admin:integrations_webhookendpoint_add")).status_code == 403
    assert 'name="_save"' not in admin.get(pages[1]).content.decode()
    assert login("a_holder").get(pages[0]).status_code in {302, 403}
