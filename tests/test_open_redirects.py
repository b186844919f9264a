"""A `next` (or any redirect target read from a request) never leaves the site:
one check, treasury_portal.pages.url_is_local (Django's
url_has_allowed_host_and_scheme, https required on https), used by every form
that reads `next`, the admin's sign-in, a notification's link and the
ApplicationError middleware's Referer."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts import crypto
from accounts import services as account_services
from autopay import services as autopay
from autopay.models import InvoiceStatus
from autopay.tests.autopay_kit import autopay_kit
from conftest import enrol_totp
from payments.models import PaymentIntent, TransferKind
from payments.services import ledger
from payments.tests.kit import Kit, seed_money
from treasury_portal.pages import next_url, url_is_local
from vouchers.models import VoucherStatus
from vouchers.payment.services import payment_intent_process

pytestmark = pytest.mark.django_db

HOSTILE = ["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "\x08//evil.example",
           "http://testserver@evil.example/"]


def _client(user) -> Client:  # noqa: ANN001
    if not user.authenticator_set.exists():
        enrol_totp(user)
    client = Client()
    client.force_login(user)
    return client


def _went_home(response, fallback: str) -> None:  # noqa: ANN001
    assert response.status_code == 302
    assert response["Location"] == fallback, response["Location"]


@pytest.mark.parametrize("target", HOSTILE)
def test_the_signing_key_revoke_does_not_follow_a_foreign_next(world, target):
    user = world.users["b_holder"]
    key = account_services.signing_key_register(
        actor=user, unit=world.units["b"],
        role="account_holder", public_key=crypto.generate_keypair()[1],
    )
    response = _client(user).post(reverse("signing-key-revoke", args=[key.pk]), {"next": target})
    _went_home(response, reverse("signing-keys"))


def _failed_payment(world):  # noqa: ANN001, ANN202
    seed_money(world)
    kit = Kit(world, "a")
    voucher = kit.pending(9_000_000, from_deposit=True)
    ledger.transfer_post(debit=kit.deposit, credit=ledger.treasury_cash_account(), amount=kit.deposit.balance,
                         key="drain-redirect", kind=TransferKind.DEPOSIT)
    voucher = kit.approve(voucher)
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=voucher).pk, worker="t")
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PAYMENT_FAILED
    return kit, voucher


@pytest.mark.parametrize("target", HOSTILE)
def test_the_payment_retry_does_not_follow_a_foreign_next(world, target):
    kit, voucher = _failed_payment(world)
    response = _client(kit.user("approver")).post(reverse("payment-retry", args=[voucher.pk]), {"next": target})
    _went_home(response, reverse("payments-overview"))


def test_the_payment_retry_follows_a_local_next(world):
    kit, voucher = _failed_payment(world)
    page = reverse("voucher-detail", args=[voucher.pk]) + "?tab=result"
    response = _client(kit.user("approver")).post(reverse("payment-retry", args=[voucher.pk]), {"next": page})
    _went_home(response, page)


def _exception_invoice(world):  # noqa: ANN001, ANN202
    kit = autopay_kit(world, "a")
    kit.active_authorization(codes=("PE0001",), cap_per_invoice=2_000_000, cap_per_month=5_000_000)
    invoice = kit.invoice("PE0001", 3_000_000, number="HD-OVER-1")
    autopay.autopay_run()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.EXCEPTION
    return kit, invoice


@pytest.mark.parametrize("target", HOSTILE)
def test_the_autopay_invoice_retry_does_not_follow_a_foreign_next(world, target):
    _kit, invoice = _exception_invoice(world)
    client = _client(world.users["a_holder"])
    response = client.post(reverse("autopay-invoice-retry", args=[invoice.pk]), {"next": target, "note": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith("/") and not response["Location"].startswith("//")
    assert "evil" not in response["Location"] and response["Location"] != target


@pytest.mark.parametrize("target", HOSTILE)
def test_the_admin_sign_in_does_not_follow_a_foreign_next(target):
    response = Client().get(reverse("admin:login"), {"next": target})
    assert response.status_code == 302
    assert "evil" not in response["Location"].split("?")[0]


@pytest.mark.parametrize("target", HOSTILE)
def test_the_check_itself(target):
    request = RequestFactory().post("/x", {"next": target})
    assert not url_is_local(request, target)
    assert next_url(request) == ""


def test_a_local_next_is_kept_and_https_is_required_on_https():
    request = RequestFactory().post("/x", {"next": "/vouchers/?status=draft"})
    assert next_url(request) == "/vouchers/?status=draft"
    secure = RequestFactory().post("/x", {"next": "http://testserver/vouchers/"}, secure=True)
    assert next_url(secure) == ""
