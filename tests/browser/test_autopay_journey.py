"""Automatic utility payments in Chromium, as the people involved live them.

The unit's chief accountant drafts an authorization for its electricity bills
and signs it (a WebCrypto key made in this browser, the same signing.js as
vouchers), the account holder signs it and sends it to the treasury, the
treasury administrator confirms it from the home page's list, the run
(`autopay_run`, what `manage.py run_autopay` does) pays the supplier's pending
invoice, and the account holder finds the paid invoice with its debit advice
and downloads the PDF. Every page visited is checked with axe; the lists also
at a phone's width.
"""

import io
import re

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from autopay import services as autopay
from autopay.demo import seed_collection_accounts
from autopay.models import AuthorizationStatus, AutopayAuthorization, InvoiceStatus
from conftest import enrol_totp
from payments.tests.kit import seed_money
from tests.browser.test_voucher_journey import Journey, _register_key_in_browser

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AMOUNT = 1_876_500


def _status(authorization: AutopayAuthorization) -> str:
    return AutopayAuthorization.objects.get(pk=authorization.pk).status


def _sign(journey: Journey, username: str, authorization: AutopayAuthorization, expected: str) -> None:
    page = journey.page(username)
    journey.goto(page, f"/autopay/{authorization.pk}/")
    journey.click(page, page.get_by_role("link", name="Ký số"))
    assert page.path() == f"/autopay/{authorization.pk}/sign/", page.url
    current = AutopayAuthorization.objects.get(pk=authorization.pk).content_hash
    assert page.locator("form[data-sign]").get_attribute("data-content-hash") == current
    journey.click(page, page.get_by_role("button", name="Ký ủy quyền"))
    assert expected in page.locator(".messages").inner_text()


def test_an_authorization_is_signed_confirmed_and_pays_an_invoice(portal, world, tmp_path):
    seed_money(world)
    seed_collection_accounts(world)  # autopay pays the suppliers there
    for username in ("a_chief", "a_holder", "tadmin"):
        enrol_totp(world.users[username])
    journey = Journey(portal, world)
    unit = world.units["a"]
    line = unit.budget_lines.get(ndkt="6501", fiscal_year=timezone.localdate().year)

    # 1. The chief accountant registers a key in this browser and drafts the authorization.
    _register_key_in_browser(journey, "a_chief")
    chief = journey.page("a_chief")
    journey.goto(chief, "/autopay/")
    journey.click(chief, chief.get_by_role("link", name="Lập ủy quyền mới"))
    chief.select_option("#id_supplier", world.suppliers["evn"].code)
    chief.fill("#id_customer_codes", "PE0001, PE0002")
    chief.select_option("#id_funding", f"line:{line.pk}")
    chief.fill("#id_cap_per_invoice", "5000000")
    chief.fill("#id_cap_per_month", "9000000")
    journey.click(chief, chief.get_by_role("button", name="Lưu nháp"))
    authorization = AutopayAuthorization.objects.get(unit=unit)
    assert chief.path() == f"/autopay/{authorization.pk}/"
    assert "Chờ kế toán trưởng ký." in chief.locator("main").inner_text()

    # 2. It signs first; 3. the account holder signs last and sends it.
    _sign(journey, "a_chief", authorization, "kế toán trưởng")
    _register_key_in_browser(journey, "a_holder")
    _sign(journey, "a_holder", authorization, "chủ tài khoản")
    holder = journey.page("a_holder")
    journey.click(holder, holder.get_by_role("button", name="Gửi kho bạc"))
    assert _status(authorization) == AuthorizationStatus.SUBMITTED
    assert "Chờ quản trị kho bạc" in holder.locator("main").inner_text()

    # 4. The administrator finds it on the home page and confirms it.
    admin = journey.page("tadmin")
    journey.goto(admin, "/")
    journey.click(admin, admin.get_by_role("link", name=str(authorization), exact=True))
    journey.click(admin, admin.locator("form[action$='/confirm/']").get_by_role("button", name="Xác nhận"))
    assert _status(authorization) == AuthorizationStatus.ACTIVE
    assert "Đang hiệu lực" in admin.locator("main").inner_text()

    # 5. The supplier sends an invoice; the run pays it.
    invoice, _created = autopay.supplier_invoice_receive(
        actor=world.users["evn_clerk"],
        invoice_number="EVN-2026-000123",
        customer_code="PE0002",
        period=timezone.localdate().strftime("%Y-%m"),
        amount=AMOUNT,
        issued_at=timezone.now(),
    )
    run = autopay.autopay_run()
    invoice.refresh_from_db()
    assert (run.paid, invoice.status) == (1, InvoiceStatus.PAID)

    # 6. The account holder sees the paid invoice and downloads its debit advice.
    journey.goto(holder, "/autopay/invoices/?status=paid")
    row = holder.locator("tr", has_text="EVN-2026-000123")
    assert "1.876.500" in row.inner_text() and "Đã thanh toán" in row.inner_text()
    with holder.expect_download() as download_info:
        row.get_by_role("link", name=re.compile("Giấy báo nợ")).click()
    target = tmp_path / "giay-bao-no.pdf"
    download_info.value.save_as(target)
    pdf_text = re.sub(r"\s+", " ", PdfReader(io.BytesIO(target.read_bytes())).pages[0].extract_text())
    assert "1.876.500" in pdf_text

    # The treasury's runs page shows the finished run.
    journey.goto(admin, "/treasury/autopay/runs/")
    assert f"#{run.pk}" in admin.locator("#autopay-runs").inner_text()


def test_autopay_lists_fit_a_phone_and_pass_axe(portal, world):
    from autopay.tests.autopay_kit import autopay_kit

    kit = autopay_kit(world, "a")
    kit.active_authorization(codes=("PE0001",), cap_per_invoice=1_000_000, cap_per_month=2_000_000)
    kit.submitted_authorization(codes=("PV0001",), supplier="vnpt")
    kit.invoice("PE0001", 900_000)
    kit.invoice("PE0001", 1_500_000)
    autopay.autopay_run()
    kit.invoice("PE0001", 800_000)
    run = autopay.autopay_run_start(trigger="command")  # a run in progress: the progress bar polls
    visits = {
        "a_holder": ["/autopay/", "/autopay/invoices/", "/autopay/new/", "/"],
        "tadmin": ["/treasury/autopay/confirmations/", "/treasury/autopay/exceptions/", "/treasury/autopay/runs/"],
        "evn_clerk": ["/supplier/invoices/"],
    }
    for username, paths in visits.items():
        user = world.users[username]
        if username != "evn_clerk":
            enrol_totp(user)
        client = Client()
        client.force_login(user)
        page = portal(width=360, height=800)
        page.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.base_url}]
        )
        for path in paths:
            page.goto(path)
            page.check_a11y()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    assert page.locator("main").inner_text()
    autopay.autopay_run_batches(run_id=run.pk)


def test_the_unit_retries_one_exception_and_closes_another(portal, world):
    """After the unit raised its cap, the account holder retries an invoice
    that was over it (the run queued on commit pays it) and closes another one
    with a note; the control officer finds it under the closed exceptions."""
    from autopay.models import SupplierInvoice
    from autopay.tests.autopay_kit import autopay_kit
    from tests.browser.test_voucher_journey import Journey

    kit = autopay_kit(world, "a")
    old = kit.active_authorization(codes=("PE0001",), cap_per_invoice=1_000_000, cap_per_month=5_000_000)
    over = kit.invoice("PE0001", 1_500_000, number="EVN-OVER-1")
    other = kit.invoice("PE0001", 1_200_000, number="EVN-OVER-2")
    autopay.autopay_run()
    autopay.authorization_revoke(actor=world.users["a_holder"], authorization=old)
    kit.active_authorization(codes=("PE0001",), cap_per_invoice=2_000_000, cap_per_month=5_000_000)
    for username in ("a_holder", "officer"):
        enrol_totp(world.users[username])
    journey = Journey(portal, world)

    holder = journey.page("a_holder")
    journey.goto(holder, "/autopay/invoices/?status=exception")
    journey.click(holder, holder.get_by_role("button", name="Thử thanh toán lại hóa đơn EVN-OVER-1"))
    assert "Hóa đơn EVN-OVER-1 đã trở lại hàng chờ thanh toán" in holder.locator(".messages").inner_text()
    assert SupplierInvoice.objects.get(pk=over.pk).status == InvoiceStatus.PAID

    row = holder.locator("tr", has_text="EVN-OVER-2")
    row.locator("summary").click()
    row.get_by_label("Cách đã xử lý (bắt buộc)").fill("Đã thanh toán bằng chứng từ số 15")
    journey.click(holder, row.get_by_role("button", name="Đóng ngoại lệ của hóa đơn EVN-OVER-2"))
    assert "Đã đóng ngoại lệ của hóa đơn EVN-OVER-2" in holder.locator(".messages").inner_text()
    assert SupplierInvoice.objects.get(pk=other.pk).close_note == "Đã thanh toán bằng chứng từ số 15"
    assert "EVN-OVER-2" not in holder.locator("table.data").inner_text()  # out of the open exceptions

    officer = journey.page("officer")
    journey.goto(officer, "/treasury/autopay/exceptions/?closed=1")
    closed = officer.locator("tr", has_text="EVN-OVER-2").inner_text()
    assert "bởi a_holder" in closed and "Đã thanh toán bằng chứng từ số 15" in closed
