"""The release of an amount autopay held as unusual (`amount_anomaly`): a retry
would be held again by the same history, so the unit's account holder confirms
the amount ("confirm and pay") and the next run pays it, every other rule still
applying. Services, the buttons' predicate, the page and the API."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import api_token_create
from autopay import selectors
from autopay import services as autopay
from autopay.models import AutopayEvent, ExceptionCode, InvoiceStatus
from autopay.tests.autopay_kit import autopay_kit
from conftest import enrol_totp
from payments.selectors.reconcile import reconcile
from treasury_portal.errors import ApplicationError, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    return autopay_kit(world, "a")


@pytest.fixture
def held(kit):  # noqa: ANN001, ANN201
    """Three paid periods of 100.000 đồng, then 400.000 đồng: held as unusual."""
    kit.active_authorization(codes=("C4",), cap_per_invoice=5_000_000, cap_per_month=6_000_000)
    year = kit.fiscal_year
    for month in (1, 2, 3):
        kit.invoice("C4", 100_000, period=f"{year}-0{month}")
    autopay.autopay_run()
    invoice = kit.invoice("C4", 400_000, period=f"{year}-04")
    autopay.autopay_run()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.exception_code) == (InvoiceStatus.EXCEPTION, ExceptionCode.AMOUNT_ANOMALY)
    return invoice


def test_the_account_holder_confirms_and_the_next_run_pays(kit, held):
    invoice = autopay.autopay_invoice_confirm_amount(actor=kit.user("a_holder"), invoice=held, note="Đã kiểm tra")
    assert (invoice.status, invoice.exception_code) == (InvoiceStatus.PENDING, "")
    event = AutopayEvent.objects.get(invoice=held, action="confirm_amount")
    assert (event.actor, event.note, event.data["amount"], event.data["code"]) == (
        kit.user("a_holder"), "Đã kiểm tra", 400_000, ExceptionCode.AMOUNT_ANOMALY,
    )
    autopay.autopay_run()
    held.refresh_from_db()
    assert (held.status, held.transfer_id is not None) == (InvoiceStatus.PAID, True)
    assert reconcile().ok, reconcile().problems


def test_a_retry_of_an_unusual_amount_is_refused_with_the_way_out(kit, held):
    with pytest.raises(ApplicationError) as excinfo:
        autopay.autopay_invoice_retry(actor=kit.user("a_chief"), invoice=held)
    assert excinfo.value.code == "amount_needs_confirmation"
    assert "Chủ tài khoản" in excinfo.value.message
    held.refresh_from_db()
    assert held.status == InvoiceStatus.EXCEPTION


@pytest.mark.parametrize("username", ["a_chief", "officer", "tadmin"])
def test_only_the_account_holder_confirms(kit, held, username):
    with pytest.raises(PermissionDenied):
        autopay.autopay_invoice_confirm_amount(actor=kit.user(username), invoice=held)
    assert not selectors.can_confirm_amount(kit.user(username), held)
    held.refresh_from_db()
    assert held.status == InvoiceStatus.EXCEPTION


def test_the_buttons_agree_with_the_services(kit, held):
    holder, chief = kit.user("a_holder"), kit.user("a_chief")
    assert selectors.can_confirm_amount(holder, held)
    assert selectors.exception_actions(holder, held) == (False, True)  # no retry: it would be held again
    assert selectors.exception_actions(chief, held) == (False, True)
    confirmed = autopay.autopay_invoice_confirm_amount(actor=holder, invoice=held)
    assert not selectors.can_confirm_amount(holder, confirmed)  # pending: nothing to confirm
    with pytest.raises(ApplicationError) as excinfo:
        autopay.autopay_invoice_confirm_amount(actor=holder, invoice=held)
    assert excinfo.value.code == "invoice_not_in_exception"


def test_only_an_unusual_amount_can_be_confirmed(kit):
    kit.active_authorization(codes=("PE0001",), cap_per_invoice=2_000_000, cap_per_month=5_000_000)
    over = kit.invoice("PE0001", 3_000_000)
    autopay.autopay_run()
    over.refresh_from_db()
    assert over.exception_code == ExceptionCode.OVER_CAP
    assert not selectors.can_confirm_amount(kit.user("a_holder"), over)
    with pytest.raises(ApplicationError) as excinfo:
        autopay.autopay_invoice_confirm_amount(actor=kit.user("a_holder"), invoice=over)
    assert excinfo.value.code == "amount_not_held"


def test_a_confirmed_amount_still_meets_the_other_rules(kit, held):
    """The confirmation lifts the anomaly check only: a cap lowered since holds it again, as over the cap."""
    held.authorization.__class__.objects.filter(pk=held.authorization_id).update(cap_per_invoice=300_000)
    autopay.autopay_invoice_confirm_amount(actor=kit.user("a_holder"), invoice=held)
    autopay.autopay_run()
    held.refresh_from_db()
    assert (held.status, held.exception_code) == (InvoiceStatus.EXCEPTION, ExceptionCode.OVER_CAP)


def test_the_confirmation_is_for_that_amount(kit, held):
    """An event naming another amount (an invoice amended since) does not release it."""
    autopay.autopay_invoice_confirm_amount(actor=kit.user("a_holder"), invoice=held)
    AutopayEvent.objects.filter(invoice=held, action="confirm_amount").update(data={"amount": 100_000})
    autopay.autopay_run()
    held.refresh_from_db()
    assert (held.status, held.exception_code) == (InvoiceStatus.EXCEPTION, ExceptionCode.AMOUNT_ANOMALY)


def _client(user):  # noqa: ANN001, ANN202
    if not user.authenticator_set.exists():
        enrol_totp(user)
    client = Client()
    client.force_login(user)
    return client


def test_the_unit_page_offers_confirm_to_the_holder_only(kit, held):
    client = _client(kit.user("a_holder"))
    page = client.get(reverse("autopay-unit-invoices")).content.decode()
    confirm_url = reverse("autopay-invoice-confirm", args=[held.pk])
    assert confirm_url in page
    assert reverse("autopay-invoice-retry", args=[held.pk]) not in page
    response = client.post(confirm_url, {"note": "Đúng số tiền", "next": reverse("autopay-unit-invoices")})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == InvoiceStatus.PENDING
    client = _client(kit.user("a_chief"))
    other = kit.invoice("C4", 900_000, period=f"{kit.fiscal_year}-05")
    autopay.autopay_run()
    other.refresh_from_db()
    assert other.exception_code == ExceptionCode.AMOUNT_ANOMALY
    assert reverse("autopay-invoice-confirm", args=[other.pk]) not in client.get(
        reverse("autopay-unit-invoices")
    ).content.decode()


def test_the_api_confirms_for_the_holder_and_refuses_the_chief(kit, held):
    def api(username: str) -> APIClient:
        user = kit.user(username)
        if not user.authenticator_set.exists():
            enrol_totp(user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='t')[1]}")
        return client

    url = reverse("api-autopay-invoice-confirm-amount", args=[held.pk])
    refused = api("a_chief").post(url, {"note": ""}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    retry = api("a_chief").post(reverse("api-autopay-invoice-retry", args=[held.pk]), {"note": ""}, format="json")
    assert retry.status_code == 409 and retry.json()["code"] == "amount_needs_confirmation"
    done = api("a_holder").post(url, {"note": "ok"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "pending"
