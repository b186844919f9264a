"""Pages of the payments app: accounts and statements, the notification
centre and its bell, the voucher page's result section, the treasury's
payments page, deposits, and the public verification page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from conftest import enrol_totp
from payments.models import (
    Account,
    BankFile,
    Notification,
    NotificationKind,
    NotificationPreference,
    PaymentIntent,
    Transfer,
    TransferKind,
)
from payments.services import ledger
from payments.tests.kit import Kit, seed_money
from vouchers.models import VoucherStatus
from vouchers.payment.services import payment_intent_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):
    seed_money(world)
    return Kit(world, "a")


def browser(user) -> Client:
    if not user.authenticator_set.exists():
        enrol_totp(user)
    client = Client()
    client.force_login(user)
    return client


def pay(voucher):
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=voucher).pk, worker="t")
    voucher.refresh_from_db()
    return voucher


def test_accounts_page_lists_balances_and_movements(kit, django_assert_max_num_queries):
    voucher = pay(kit.approved(2_000_000))
    client = browser(kit.user("a_holder"))
    with django_assert_max_num_queries(14):
        page = client.get(reverse("accounts-list"))
    html = page.content.decode()
    assert kit.deposit.number in html and kit.estimate.number in html
    assert "500.000.000 ₫" in html
    detail = client.get(reverse("account-detail", args=[kit.estimate.pk])).content.decode()
    assert voucher.number in detail
    assert "2.000.000 ₫" in detail and reverse("account-statement-pdf", args=[kit.estimate.pk]) in detail
    transfer = Transfer.objects.get(voucher=voucher)
    assert reverse("debit-advice-pdf", args=[transfer.pk]) in detail
    period = {"start": "2026-01-01", "end": "2026-12-31"}
    pdf = client.get(reverse("account-statement-pdf", args=[kit.estimate.pk]), period)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv = client.get(reverse("account-statement-csv", args=[kit.estimate.pk]))
    assert voucher.number in csv.content.decode("utf-8-sig")
    assert browser(kit.user("b_holder")).get(reverse("account-detail", args=[kit.estimate.pk])).status_code == 404
    assert kit.deposit.number not in browser(kit.user("b_holder")).get(reverse("accounts-list")).content.decode()


def test_bell_badge_and_notification_centre(kit):
    client = browser(kit.user("a_holder"))
    home = client.get(reverse("home")).content.decode()
    assert 'class="notif-bell"' in home
    before = client.get(reverse("notifications-badge")).content.decode()
    assert before.startswith('<a class="notif-bell"') and "hx-get" in before
    ledger.deposit_credit(actor=None, account=kit.deposit, amount=1_250_000, reference="bell-1")
    unread = Notification.objects.filter(user=kit.user("a_holder"), read_at__isnull=True).count()
    badge = client.get(reverse("notifications-badge")).content.decode()
    assert f'<span class="notif-count">{unread}' in badge
    centre = client.get(reverse("notifications")).content.decode()
    assert "+1.250.000 ₫" in centre and "Chưa đọc" in centre
    note = Notification.objects.filter(user=kit.user("a_holder"), data__amount=1_250_000).get()
    opened = client.post(reverse("notification-open", args=[note.pk]))
    assert opened.status_code == 302 and opened["Location"] == reverse("account-detail", args=[kit.deposit.pk])
    note.refresh_from_db()
    assert note.read_at is not None
    assert browser(kit.user("a_chief")).post(reverse("notification-open", args=[note.pk])).status_code == 404
    client.post(reverse("notifications-read-all"))
    assert '<span class="notif-count">' not in client.get(reverse("notifications-badge")).content.decode()


def test_english_notification_text(kit):
    ledger.deposit_credit(actor=None, account=kit.deposit, amount=3_000, reference="en-1")
    client = browser(kit.user("a_holder"))
    client.cookies["django_language"] = "en"
    html = client.get(reverse("notifications"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "+3,000 VND" in html


def test_preferences_page_saves_choices(kit):
    client = browser(kit.user("a_chief"))
    page = client.get(reverse("notification-preferences")).content.decode()
    assert 'name="balance_change__sms"' in page and "checked" in page
    data = {f"{k}__{c}": "on" for k in ("balance_change", "voucher_status") for c in ("portal", "email", "sms")}
    del data["balance_change__sms"]
    assert client.post(reverse("notification-preferences"), data).status_code == 302
    assert NotificationPreference.objects.get(
        user=kit.user("a_chief"), kind=NotificationKind.BALANCE_CHANGE, channel="sms"
    ).enabled is False


def test_voucher_page_result_section(kit):
    voucher = pay(kit.approved(1_800_000))
    client = browser(kit.user("a_preparer"))
    html = client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert reverse("voucher-result-pdf", args=[voucher.pk]) in html
    assert reverse("verify", args=[voucher.content_hash]) in html
    response = client.get(reverse("voucher-result-pdf", args=[voucher.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert browser(kit.user("b_preparer")).get(reverse("voucher-result-pdf", args=[voucher.pk])).status_code == 404


def test_failed_payment_shows_reason_and_retry_to_the_treasury(kit):
    voucher = kit.pending(9_000_000, from_deposit=True)
    deposit = kit.deposit
    ledger.transfer_post(debit=deposit, credit=ledger.treasury_cash_account(), amount=deposit.balance,
                         key="drain-page", kind=TransferKind.DEPOSIT)
    voucher = pay(kit.approve(voucher))
    assert voucher.status == VoucherStatus.PAYMENT_FAILED
    unit_page = browser(kit.user("a_holder")).get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "Thanh toán lỗi" in unit_page and "không đủ" in unit_page
    assert reverse("payment-retry", args=[voucher.pk]) not in unit_page
    approver = browser(kit.user("approver"))
    overview = approver.get(reverse("payments-overview")).content.decode()
    assert voucher.number in overview and "không đủ" in overview
    assert reverse("payment-retry", args=[voucher.pk]) in overview
    ledger.deposit_credit(actor=None, account=deposit, amount=20_000_000, reference="refill")
    response = approver.post(reverse("payment-retry", args=[voucher.pk]))
    assert response.status_code == 302
    pay(voucher)
    assert voucher.status == VoucherStatus.PAID
    assert browser(kit.user("officer")).post(reverse("payment-retry", args=[voucher.pk])).status_code == 404


def test_treasury_generates_and_downloads_bank_files(kit):
    voucher = pay(kit.approved(2_500_000))
    admin = browser(kit.user("tadmin"))
    overview = admin.get(reverse("payments-overview")).content.decode()
    assert "VCB" in overview and "2.500.000 ₫" in overview
    assert admin.post(reverse("bank-files-generate")).status_code == 302
    bank_file = BankFile.objects.get()
    download = browser(kit.user("officer")).get(reverse("bank-file-download", args=[bank_file.pk]))
    assert download.status_code == 200 and voucher.number.encode() in download.content
    assert browser(kit.user("officer_b")).get(reverse("bank-file-download", args=[bank_file.pk])).status_code == 404
    assert browser(kit.user("officer")).post(reverse("bank-files-generate")).status_code == 404
    assert browser(kit.user("a_holder")).get(reverse("payments-overview")).status_code == 404


def test_deposit_page_form_and_csv(kit):
    admin = browser(kit.user("tadmin"))
    page = admin.get(reverse("deposits")).content.decode()
    other_unit = Account.objects.get(unit=kit.world.units["b"], kind="deposit")
    assert kit.deposit.number in page and other_unit.number not in page
    response = admin.post(reverse("deposits"), {
        "action": "one", "account": kit.deposit.number, "amount": "1500000", "reference": "FORM-1",
        "depositor": "Sở Tài chính", "description": "Kinh phí bổ sung",
    })
    assert response.status_code == 302
    assert Transfer.objects.get(key="deposit:FORM-1").amount == 1_500_000
    bad = SimpleUploadedFile("nop.csv", f"account,amount,reference\n{kit.deposit.number},abc,CSV-9\n".encode())
    html = admin.post(reverse("deposits"), {"action": "csv", "file": bad}).content.decode()
    assert "Dòng 2" in html and not Transfer.objects.filter(key="deposit:CSV-9").exists()
    good = SimpleUploadedFile("nop.csv", f"account,amount,reference\n{kit.deposit.number},100000,CSV-9\n".encode())
    assert admin.post(reverse("deposits"), {"action": "csv", "file": good}).status_code == 302
    assert Transfer.objects.filter(key="deposit:CSV-9").exists()
    assert browser(kit.user("officer")).get(reverse("deposits")).status_code == 404


def test_public_verification_page(kit):
    voucher = pay(kit.approved(1_000_000))
    anonymous = Client()
    page = anonymous.get(reverse("verify", args=[voucher.content_hash]))
    html = page.content.decode()
    assert page.status_code == 200 and "Chứng từ hợp lệ" in html and voucher.number in html
    assert "1.000.000" not in html and voucher.payee_name not in html  # nothing confidential
    missing = anonymous.get(reverse("verify", args=["f" * 64]))
    assert missing.status_code == 404 and "Không tìm thấy chứng từ" in missing.content.decode()


def test_home_sections(kit):
    assert "Tài khoản và thông báo" in browser(kit.user("a_holder")).get(reverse("home")).content.decode()
    assert reverse("payments-overview") in browser(kit.user("officer")).get(reverse("home")).content.decode()


def test_admin_lists_money_read_only(kit):
    pay(kit.approved(1_000_000))
    admin = browser(kit.user("tadmin"))
    for name in ("account", "transfer", "paymentintent", "bank", "notification", "bankfile"):
        assert admin.get(reverse(f"admin:payments_{name}_changelist")).status_code == 200, name
    transfer = Transfer.objects.first()
    assert admin.get(reverse("admin:payments_transfer_add")).status_code == 403
    assert admin.post(reverse("admin:payments_transfer_change", args=[transfer.pk]), {"amount": 1}).status_code == 403
