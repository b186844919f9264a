"""Result PDFs, debit advices and statements, read back with pypdf."""

import io
import re

import pytest
from pypdf import PdfReader

from payments.models import Document, DocumentKind, Transfer, TransferKind
from payments.selectors.ledger import account_statement, parse_period
from payments.services.documents import debit_advice_render
from payments.tests.kit import Kit, seed_money
from treasury_portal.amount_words import amount_in_words
from vouchers.payment.documents import result_document_render, verification

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def paid(world, django_capture_on_commit_callbacks):
    seed_money(world)
    kit = Kit(world, "a")
    with django_capture_on_commit_callbacks(execute=True):
        voucher = kit.approved(12_345_000, ndkt="6501")
    voucher.refresh_from_db()
    assert voucher.status == "paid"
    return kit, voucher


def test_result_pdf_reads_like_the_official_form(paid):
    kit, voucher = paid
    # The payment renders nothing; the first download does (and stores it).
    assert not Document.objects.filter(kind=DocumentKind.RESULT, voucher=voucher).exists()
    document = result_document_render(voucher_id=voucher.pk)
    assert document == Document.objects.get(kind=DocumentKind.RESULT, voucher=voucher)
    assert document.rendered_at and len(document.sha256) == 64
    data = document.file.open("rb").read()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    line = kit.line("6501")
    assert "GIẤY RÚT DỰ TOÁN NGÂN SÁCH" in text
    assert "C2-02a/NS" in text and voucher.number in text
    assert amount_in_words(12_345_000) in text  # "Mười hai triệu ba trăm bốn mươi lăm nghìn đồng"
    assert "Mười hai triệu ba trăm bốn mươi lăm nghìn đồng" in text
    assert "12.345.000" in text
    for code in (kit.unit.code, line.ndkt, line.chapter, line.sector, line.funding_source, f"9523.2.{kit.unit.code}"):
        assert code in text, code
    for name in ("a_chief", "a_holder", "officer", "approver"):
        user = kit.user(name)
        assert user.get_full_name() in text, name
    chief_key = kit.keys["a_chief"][1]
    assert chief_key.fingerprint[:16] in text.replace(" ", "")
    assert "Chữ ký số hợp lệ" in text
    assert voucher.receipt_number in text
    assert f"/verify/{voucher.content_hash}" in text.replace(" ", "")
    # The QR code is embedded as an image.
    reader = PdfReader(io.BytesIO(data))
    assert b"/XObject" in data or reader.pages[0].images is not None


def test_rendering_twice_keeps_one_document(paid):
    _kit, voucher = paid
    first = result_document_render(voucher_id=voucher.pk)
    second = result_document_render(voucher_id=voucher.pk)
    assert first.pk == second.pk
    assert Document.objects.filter(kind=DocumentKind.RESULT, voucher=voucher).count() == 1


def test_debit_advice_for_each_debit_of_a_unit_account(paid):
    kit, voucher = paid
    transfer = Transfer.objects.get(voucher=voucher, kind=TransferKind.PAYMENT)
    assert not Document.objects.filter(kind=DocumentKind.DEBIT_ADVICE, transfer=transfer).exists()
    document = debit_advice_render(transfer_id=transfer.pk)  # on first download
    assert document == Document.objects.get(kind=DocumentKind.DEBIT_ADVICE, transfer=transfer)
    text = pdf_text(document.file.open("rb").read())
    assert "GIẤY BÁO NỢ" in text
    assert transfer.debit_account.number in text and "12.345.000" in text
    assert voucher.number in text and amount_in_words(12_345_000) in text
    # A credit of a unit account has no debit advice.
    credit = Transfer.objects.filter(credit_account__unit=kit.unit).first()
    assert debit_advice_render(transfer_id=credit.pk) is None


def test_statement_pdf_has_opening_lines_and_closing(paid):
    kit, voucher = paid
    start, end = parse_period(None, None)
    from payments.pdf import render_statement
    from payments.selectors.documents import statement_context

    statement = account_statement(kit.estimate, start, end)
    assert statement["closing"] == kit.estimate.balance
    assert statement["opening"] + statement["total_credits"] - statement["total_debits"] == statement["closing"]
    text = pdf_text(render_statement(statement_context(kit.estimate, statement)))
    assert "SAO KÊ TÀI KHOẢN" in text and kit.estimate.number in text
    assert voucher.number in text and "12.345.000" in text


def test_verification_says_genuine_and_status_nothing_confidential(paid):
    _kit, voucher = paid
    assert verification(voucher.content_hash)["document_sha256"] == ""  # not downloaded yet
    result_document_render(voucher_id=voucher.pk)
    info = verification(voucher.content_hash)
    assert info["is_paid"] and info["number"] == voucher.number
    assert info["document_sha256"] == Document.objects.get(kind="result", voucher=voucher).sha256
    assert "total_amount" not in info and "payee" not in str(info)
    assert verification("0" * 64) is None
    assert verification("not-a-hash") is None
