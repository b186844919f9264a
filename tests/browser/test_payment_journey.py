"""The end of a voucher's life in Chromium: an approved voucher is paid, its
account holder sees the notification arrive in the header's bell without a
page reload (htmx polling; the page's clock is fast-forwarded instead of
waiting 30 seconds), opens it, downloads the result PDF from the voucher page,
and the public verification page confirms the document. Every page visited is
checked with axe (no serious or critical violation)."""

import io
import re
from unittest import mock

import pytest
from pypdf import PdfReader

from conftest import enrol_totp
from payments.models import Notification, PaymentIntent
from payments.services.notifications import notifications_mark_all_read
from payments.tests.kit import Kit, seed_money
from tests.browser.conftest import sign_in
from treasury_portal.amount_words import amount_in_words
from vouchers.models import VoucherStatus
from vouchers.payment.services import payment_intent_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AMOUNT = 7_654_000


def test_paid_voucher_reaches_its_account_holder(portal, world, tmp_path):
    seed_money(world)
    kit = Kit(world, "a")
    holder = world.users["a_holder"]
    secret = enrol_totp(holder)
    with mock.patch("vouchers.payment.services._queue_payment"):  # the worker is held back until the holder looks
        voucher = kit.approved(AMOUNT)
    intent = PaymentIntent.objects.get(voucher=voucher)
    notifications_mark_all_read(actor=holder)

    page = portal()
    page.clock.install()  # htmx's polling timer runs on this clock
    sign_in(page, "a_holder", secret)
    page.check_a11y()
    bell = page.locator("header a.notif-bell")
    assert bell.is_visible() and page.locator("header .notif-count").count() == 0
    page.evaluate("window.__stillTheSamePage = true")

    # The payment is posted by the worker (here: the pay task's service, committed).
    payment_intent_process(intent_id=intent.pk, worker="journey")
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PAID
    unread = Notification.objects.filter(user=holder, read_at__isnull=True).count()
    assert unread >= 2  # the balance change and the "paid" status

    page.clock.fast_forward("00:31")  # the bell polls every 30 s
    count = page.locator("header .notif-count")
    count.wait_for(state="visible")
    assert re.match(rf"^{unread}\b", count.inner_text().strip()), count.inner_text()
    assert page.evaluate("window.__stillTheSamePage === true")  # updated in place, no reload

    with page.expect_navigation():
        bell.click()
    page.check_a11y()
    assert page.path().startswith("/notifications/")
    paid_item = page.locator("li.notification", has_text=voucher.number).filter(has_text="Đã thanh toán").first
    balance_item = page.locator("li.notification", has_text="Biến động số dư").first
    assert "7.654.000" in balance_item.inner_text() and voucher.number in balance_item.inner_text()
    with page.expect_navigation():
        paid_item.get_by_role("button").click()
    page.check_a11y()
    assert page.path() == f"/vouchers/{voucher.pk}/" or str(voucher.pk) in page.path(), page.path()

    result_link = page.get_by_role("link", name=re.compile("Tải chứng từ kết quả"))
    with page.expect_download() as download_info:
        result_link.click()
    target = tmp_path / "ket-qua.pdf"
    download_info.value.save_as(target)
    text = re.sub(r"\s+", " ", PdfReader(io.BytesIO(target.read_bytes())).pages[0].extract_text())
    assert voucher.number in text and amount_in_words(AMOUNT) in text

    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("kiểm tra tính xác thực")).click()
    page.check_a11y()
    assert page.path() == f"/verify/{voucher.content_hash}"
    assert page.get_by_text("Chứng từ hợp lệ").is_visible()
    assert voucher.number in page.locator("main").inner_text()
    assert Notification.objects.get(user=holder, voucher=voucher, data__status="paid").read_at is not None


def test_payment_pages_are_accessible(portal, world):
    """The unit's accounts and statement form, the preferences, and the
    treasury's payments page with a failed payment and a bank file to download."""
    from django.test import Client

    from payments.services import ledger
    from payments.services.bank_files import bank_files_generate

    seed_money(world)
    kit = Kit(world, "a")
    paid = kit.approved(1_200_000)
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=paid).pk, worker="a11y")
    failing = kit.pending(3_000_000, from_deposit=True)
    ledger.transfer_post(debit=kit.deposit, credit=ledger.treasury_cash_account(), amount=kit.deposit.balance,
                         key="a11y-drain", kind="deposit")
    with mock.patch("vouchers.payment.services._queue_payment"):
        kit.approve(failing)
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=failing).pk, worker="a11y")
    bank_files_generate(actor=world.users["tadmin"])

    def page_for(username):  # noqa: ANN001, ANN202
        enrol_totp(world.users[username])
        client = Client()
        client.force_login(world.users[username])
        page = portal()
        page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                   "url": page.base_url}])
        return page

    holder = page_for("a_holder")
    for path in ("/payments/accounts/", f"/payments/accounts/{kit.estimate.pk}/", "/notifications/",
                 "/notifications/preferences/", f"/vouchers/{failing.pk}/"):
        holder.goto(path)
        holder.check_a11y()
    assert "không đủ" in holder.locator("main").inner_text()  # the unit sees the reason
    admin = page_for("tadmin")
    for path in ("/payments/treasury/", "/payments/treasury/deposits/"):
        admin.goto(path)
        admin.check_a11y()
    admin.goto("/payments/treasury/")
    admin.check_a11y()
    assert failing.number in admin.locator("main").inner_text()
    # A narrow screen: the tables scroll inside their wrapper, the page does not.
    phone = page_for("approver")
    phone.set_viewport_size({"width": 375, "height": 800})
    phone.goto("/payments/treasury/")
    phone.check_a11y()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
