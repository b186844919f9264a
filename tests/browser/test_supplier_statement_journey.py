"""A supplier clerk sends a statement in Chromium: from the invoice list to the
upload page, downloads the template, uploads a CSV with a good row and a bad
one and reads the report of each row (in Vietnamese, then in English at a
phone's width); the same file again reports the good row as a duplicate. Every
page is checked with axe."""

import pytest
from django.conf import settings
from django.test import Client

from autopay.demo import seed_collection_accounts
from autopay.models import SupplierInvoice
from payments.tests.kit import seed_money
from tests.browser.test_voucher_journey import Journey

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

STATEMENT = (
    b"invoice_number,customer_code,period,amount,issued_at\r\n"
    b"HD-W-1,PE0001,2026-10,1250000,2026-11-02T08:30:00+07:00\r\n"
    b"HD-W-2,PE0002,2026-13,987000,2026-11-02T08:30:00+07:00\r\n"
)


def _rows(page) -> list[list[str]]:  # noqa: ANN001
    return [
        [cell.strip() for cell in row.locator("th, td").all_inner_texts()]
        for row in page.locator("section[aria-labelledby=report-title] tbody tr").all()
    ]


def _upload(journey: Journey, page, button: str) -> None:  # noqa: ANN001
    page.set_input_files("#id_file", files=[{"name": "bang-ke.csv", "mimeType": "text/csv", "buffer": STATEMENT}])
    journey.click(page, page.get_by_role("button", name=button))


def test_a_clerk_uploads_a_statement_and_reads_the_report_of_every_row(portal, world):
    seed_money(world)
    seed_collection_accounts(world)  # the supplier's account, which its invoices are paid to
    journey = Journey(portal, world)
    page = journey.page("evn_clerk")
    journey.goto(page, "/supplier/invoices/")
    journey.click(page, page.get_by_role("link", name="Tải lên bảng kê hóa đơn (CSV, XLSX)"))
    assert page.path() == "/supplier/invoices/upload/"

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải tệp mẫu (CSV)").click()
    assert download.value.suggested_filename == "bang-ke-hoa-don-mau.csv"

    _upload(journey, page, "Tải lên và kiểm tra")
    assert "Đã nhận 1 hóa đơn mới, 0 dòng trùng (đã nhận trước đó), 1 dòng bị từ chối." in page.locator(
        "[role=status]").inner_text()
    rows = _rows(page)
    assert [r[:3] for r in rows] == [["2", "HD-W-1", "Đã nhận"], ["3", "HD-W-2", "Bị từ chối"]]
    assert "Kỳ cước có dạng YYYY-MM." in rows[1][3]
    assert SupplierInvoice.objects.get(invoice_number="HD-W-1").amount == 1_250_000

    # The same file again, in English on a phone: nothing new, the reasons in English.
    phone = portal(width=390, height=844, locale="en-GB")
    journey.pages["evn_clerk_en"] = phone
    client = Client()
    client.force_login(world.users["evn_clerk"])
    phone.context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": phone.base_url},
        {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": phone.base_url},
    ])
    journey.goto(phone, "/supplier/invoices/upload/")
    _upload(journey, phone, "Upload and check")
    assert "0 new invoices accepted, 1 duplicate rows (sent before), 1 rows rejected." in phone.locator(
        "[role=status]").inner_text()
    rows = _rows(phone)
    assert [r[:3] for r in rows] == [["2", "HD-W-1", "Duplicate, received before"], ["3", "HD-W-2", "Rejected"]]
    assert "The billing period looks like YYYY-MM." in rows[1][3]
    assert SupplierInvoice.objects.filter(supplier=world.suppliers["evn"]).count() == 1
