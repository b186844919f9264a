"""A supplier's statement (CSV or XLSX) uploaded in the browser: every row goes
through `supplier_invoice_receive`, the service of `POST /api/v1/supplier/invoices`,
and the page reports each row (accepted, duplicate, rejected with the reason in
the page's language)."""

import io
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation
from openpyxl import Workbook

from autopay import services as autopay
from autopay.models import AutopayEvent, SupplierInvoice
from autopay.tests.autopay_kit import autopay_kit
from treasury_portal.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

HEADER = "invoice_number,customer_code,period,amount,issued_at"
ISSUED = "2026-11-02T08:30:00+07:00"


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    return autopay_kit(world)


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def _import(kit, content: bytes, filename: str = "bang-ke.csv", user: str = "evn_clerk"):  # noqa: ANN001, ANN202
    return autopay.supplier_statement_import(actor=kit.user(user), content=content, filename=filename)


def test_each_row_is_accepted_duplicate_or_rejected_and_the_file_again_is_all_duplicates(kit):
    content = _csv(
        f"HD-1,PE0001,2026-10,1250000,{ISSUED}",
        f"HD-2,PE0002,2026-13,987000,{ISSUED}",  # no 13th month
        f"HD-1,PE0001,2026-10,1250000,{ISSUED}",  # the same row twice in the file
        f"HD-3,PE0003,2026-10,1.000.000,{ISSUED}",  # separators: not a whole number
        "HD-4,PE0004,2026-10,500000,2026-11-02 08:30",  # no time zone
    )
    report = _import(kit, content)
    assert [(r.line, r.invoice_number, r.outcome) for r in report] == [
        (2, "HD-1", "accepted"), (3, "HD-2", "rejected"), (4, "HD-1", "duplicate"),
        (5, "HD-3", "rejected"), (6, "HD-4", "rejected"),
    ]
    assert "Kỳ cước có dạng YYYY-MM." in report[1].reason
    assert "Phải là số nguyên dương (đồng)." in report[3].reason
    assert "múi giờ" in report[4].reason
    invoice = SupplierInvoice.objects.get(invoice_number="HD-1")
    assert (invoice.supplier, invoice.amount, invoice.status, invoice.received_by) == (
        kit.world.suppliers["evn"], 1_250_000, "pending", kit.user("evn_clerk"))
    assert AutopayEvent.objects.filter(invoice=invoice, action="receive").count() == 1

    again = _import(kit, content)
    assert [r.outcome for r in again] == ["duplicate", "rejected", "duplicate", "rejected", "rejected"]
    assert SupplierInvoice.objects.count() == 1


def test_the_same_number_with_another_content_is_rejected_as_the_api_refuses_it(kit, api):
    body = {"invoice_number": "HD-9", "customer_code": "PE0001", "period": "2026-10", "amount": 750_000,
            "issued_at": ISSUED}
    assert api("evn_clerk").post("/api/v1/supplier/invoices", body, format="json").status_code == 201
    report = _import(kit, _csv(f"HD-9,PE0001,2026-10,750000,{ISSUED}", f"HD-9,PE0001,2026-10,1,{ISSUED}"))
    assert [r.outcome for r in report] == ["duplicate", "rejected"]
    assert report[1].reason == "Hóa đơn số HD-9 đã được gửi với nội dung khác."


def test_the_reason_is_in_the_language_of_the_request(kit):
    with translation.override("en"):
        report = _import(kit, _csv(f"HD-1,PE0001,2026-13,1,{ISSUED}"))
    assert report[0].outcome == "rejected"
    assert "YYYY-MM" in report[0].reason and "Kỳ cước" not in report[0].reason


def test_an_xlsx_statement_with_spreadsheet_cells(kit):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    # a number, a date the spreadsheet made of "2026-10", a date-time without a zone (Vietnam time)
    sheet.append(["HD-X1", "PE0001", datetime(2026, 10, 1), 1250000, datetime(2026, 11, 2, 8, 30)])
    sheet.append([None, None, None, None, None])  # empty rows are skipped
    sheet.append([12345, "PE0002", "2026-10", 987000.0, ISSUED])
    sheet.append(["HD-X3", "PE0003", "2026-10", -5, ISSUED])
    buffer = io.BytesIO()
    book.save(buffer)
    report = _import(kit, buffer.getvalue(), "bang-ke.xlsx")
    assert [(r.invoice_number, r.outcome) for r in report] == [
        ("HD-X1", "accepted"), ("12345", "accepted"), ("HD-X3", "rejected")]
    first = SupplierInvoice.objects.get(invoice_number="HD-X1")
    assert first.period == "2026-10"
    assert timezone.localtime(first.issued_at).strftime("%Y-%m-%d %H:%M %z") == "2026-11-02 08:30 +0700"
    assert SupplierInvoice.objects.get(invoice_number="12345").amount == 987_000


def test_a_file_that_cannot_be_read_or_is_too_long_is_refused_whole(kit, monkeypatch):
    with pytest.raises(ValidationFailed, match="thiếu cột: amount"):
        _import(kit, _csv("HD-1,PE0001,2026-10", header="invoice_number,customer_code,period,issued_at"))
    with pytest.raises(ValidationFailed, match="Excel"):
        _import(kit, b"PK\x03\x04 not really a workbook", "bang-ke.xlsx")
    monkeypatch.setattr(autopay, "MAX_STATEMENT_ROWS", 3)
    rows = [f"HD-{i},PE0001,2026-10,1000,{ISSUED}" for i in range(4)]
    with pytest.raises(ValidationFailed, match="4 dòng, vượt quá giới hạn 3 dòng"):
        _import(kit, _csv(*rows))
    assert SupplierInvoice.objects.count() == 0
    with pytest.raises(PermissionDenied):
        _import(kit, _csv(*rows[:1]), user="a_holder")


def test_the_template_is_a_statement_the_service_accepts(kit):
    report = _import(kit, autopay.statement_template_csv())
    assert [r.outcome for r in report] == ["accepted", "accepted"]


def _client(kit, username: str = "evn_clerk", language: str = "vi") -> Client:  # noqa: ANN001
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(kit.user(username))
    return client


def test_the_upload_page_reports_every_row_in_the_page_language(kit):
    content = _csv(f"HD-1,PE0001,2026-10,1250000,{ISSUED}", f"HD-2,PE0002,2026-13,987000,{ISSUED}")
    client = _client(kit, language="en")
    page = client.get("/supplier/invoices/upload/")
    assert page.status_code == 200 and "Upload" in page.content.decode()
    response = client.post("/supplier/invoices/upload/",
                           {"file": SimpleUploadedFile("statement.csv", content, content_type="text/csv")})
    body = response.content.decode()
    assert response.status_code == 200
    assert "1 new invoices accepted, 0 duplicate rows (sent before), 1 rows rejected." in body
    assert "The billing period looks like YYYY-MM." in body
    again = _client(kit).post("/supplier/invoices/upload/",
                              {"file": SimpleUploadedFile("bang-ke.csv", content, content_type="text/csv")})
    assert "Đã nhận 0 hóa đơn mới, 1 dòng trùng" in again.content.decode()
    assert SupplierInvoice.objects.count() == 1


def test_the_upload_page_refuses_a_bad_file_with_a_sentence(kit):
    client = _client(kit)
    wrong = client.post("/supplier/invoices/upload/",
                        {"file": SimpleUploadedFile("bang-ke.pdf", b"%PDF", content_type="application/pdf")})
    assert wrong.status_code == 400 and "Chỉ nhận tệp .csv hoặc .xlsx." in wrong.content.decode()
    missing = client.post("/supplier/invoices/upload/",
                          {"file": SimpleUploadedFile("bang-ke.csv", b"invoice_number\r\nHD-1\r\n")})
    assert missing.status_code == 400 and "thiếu cột" in missing.content.decode()


def test_the_template_downloads_for_supplier_clerks_only(kit):
    response = _client(kit).get("/supplier/invoices/template.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode("utf-8-sig").splitlines()[0] == HEADER
    assert _client(kit, "a_preparer").get("/supplier/invoices/template.csv").status_code == 404
