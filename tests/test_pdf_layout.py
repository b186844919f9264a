"""Every PDF the portal makes stays on its A4 page with the longest data a
unit can have: long names, amounts of 999.999.999.999 ₫ and more, many rows.

Each word's box, as poppler's `pdftotext -bbox-layout` reads it, must lie
inside the page; and every column header and value must be there (a column
pushed off the page is clipped by readers, and its words drop out).
"""

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET  # noqa: S405 - parses pdftotext's output of our own PDF

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from payments.models import Transfer, TransferKind
from payments.pdf import render_debit_advice, render_result, render_statement
from payments.selectors.documents import debit_advice_context, statement_context
from payments.selectors.ledger import account_statement, parse_period
from payments.services.ledger import deposit_credit
from payments.tests.kit import Kit, seed_money
from vouchers import services as voucher_services
from vouchers.payment.documents import result_context

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"),
]

BIG = 999_999_999_999
LONG_UNIT = (
    "Ban Quản lý dự án đầu tư xây dựng các công trình dân dụng và công nghiệp, giao thông, nông nghiệp "
    "và phát triển nông thôn tỉnh Thừa Thiên Huế"
)
LONG_OFFICE = "Kho bạc Nhà nước khu vực XVIII — Phòng Giao dịch số 12 thành phố Hồ Chí Minh (Thủ Đức)"
LONG_PAYEE = (
    "Công ty Trách nhiệm hữu hạn Một thành viên Thương mại Dịch vụ Xuất nhập khẩu Thiết bị Văn phòng "
    "và Công nghệ Thông tin Hồng Hà Việt Nam"
)
LONG_TEXT = (
    "Thanh toán khối lượng hoàn thành giai đoạn 3 gói thầu số 07/2026/XL thi công xây dựng hạng mục nhà lớp "
    "học bộ môn, hệ thống phòng cháy chữa cháy và cấp thoát nước ngoài nhà theo hợp đồng số 1234/2026/HĐ-XD"
)
A4 = (595.0, 842.0)


def words_and_pages(data: bytes) -> tuple[list[dict], list[tuple[float, float]]]:
    """Every word with its box and page (points), and each page's size."""
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", "-", "-"], input=data, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    root = ET.fromstring(re.sub(r'\sxmlns="[^"]+"', "", out, count=1))  # noqa: S314
    words, pages = [], []
    for number, page in enumerate(root.iter("page")):
        pages.append((float(page.get("width")), float(page.get("height"))))
        for word in page.iter("word"):
            box = {k: float(word.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")}
            words.append({"text": word.text or "", "page": number, **box})
    return words, pages


def wrapped_texts(words: list[dict]) -> list[str]:
    """A value wrapped inside a narrow cell (a voucher number broken at its
    hyphen) is read back whole: words starting at the same x on consecutive
    lines of a page are joined, top to bottom."""
    chains: list[list[dict]] = []
    open_chains: dict[tuple[int, int], list[dict]] = {}
    for w in sorted(words, key=lambda w: (w["page"], round(w["xMin"]), w["yMin"])):
        key = (w["page"], round(w["xMin"]))
        chain = open_chains.get(key)
        height = w["yMax"] - w["yMin"]
        if chain and 0 < w["yMin"] - chain[-1]["yMin"] < 1.6 * height:
            chain.append(w)
        else:
            open_chains[key] = chain = [w]
            chains.append(chain)
    return ["".join(w["text"] for w in chain) for chain in chains if len(chain) > 1]


def assert_on_the_page(data: bytes, *expected: str) -> str:
    """No word outside its page's [0, width] × [0, height]; each `expected`
    text present. Returns the text (words joined by spaces)."""
    words, pages = words_and_pages(data)
    assert pages and all(abs(w - A4[0]) < 1 and abs(h - A4[1]) < 1 for w, h in pages), pages
    outside = [
        w for w in words
        if w["xMin"] < 0 or w["yMin"] < 0 or w["xMax"] > pages[w["page"]][0] or w["yMax"] > pages[w["page"]][1]
    ]
    assert not outside, f"{len(outside)} words off the page, e.g. {outside[:5]}"
    text = " ".join(w["text"] for w in words)
    assert not any(mark in text for mark in ("{#", "#}", "{%", "{{")), "template syntax printed on the page"
    flat = text.replace(" ", "") + "\n" + "\n".join(wrapped_texts(words))
    missing = [e for e in expected if e.replace(" ", "") not in flat]
    assert not missing, f"missing from the PDF: {missing}"
    return text


@pytest.fixture
def long_world(world, django_capture_on_commit_callbacks):
    seed_money(world)
    kit = Kit(world, "a")
    unit = kit.unit
    unit.name = LONG_UNIT
    unit.save(update_fields=["name"])
    unit.office.name = LONG_OFFICE
    unit.office.save(update_fields=["name"])
    # Money on the deposit account: many big deposits from long-named depositors.
    for i in range(36):
        deposit_credit(
            actor=None, account=kit.deposit, amount=BIG, reference=f"layout-{i}",
            description=f"{LONG_TEXT} (đợt {i})", depositor=f"{LONG_PAYEE} chi nhánh {i}",
        )
    return kit


def _paid_big_voucher(kit, django_capture_on_commit_callbacks):  # noqa: ANN001, ANN202
    line = kit.line("7000")
    voucher = voucher_services.voucher_create(
        actor=kit.user("a_preparer"), unit=kit.unit, fiscal_year=kit.fiscal_year, procedure="C4-02a/KB",
        deposit_account=kit.deposit.pk, description=LONG_TEXT,
        payee={"name": LONG_PAYEE, "account_number": "012345678901234567890", "bank_code": "VCB"},
        lines=[{"budget_line": line.pk, "amount": BIG, "description": f"{LONG_TEXT} — phần {i}"} for i in range(12)],
    )
    voucher_services.attachment_add(
        actor=kit.user("a_preparer"), voucher=voucher, kind="contract",
        file=SimpleUploadedFile("hop-dong.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    kit.sign(voucher, "a_chief")
    kit.sign(voucher, "a_holder")
    voucher = voucher_services.voucher_submit(actor=kit.user("a_holder"), voucher=voucher)
    officer = kit.user("officer")
    voucher = voucher_services.voucher_pass(
        actor=officer, voucher=voucher_services.voucher_claim(actor=officer, voucher=voucher)
    )
    with django_capture_on_commit_callbacks(execute=True):
        kit.approve(voucher)
    voucher.refresh_from_db()
    assert voucher.status == "paid", voucher.status
    return voucher


def test_statement_with_big_amounts_and_many_rows_stays_on_a4(long_world, django_capture_on_commit_callbacks):
    kit = long_world
    voucher = _paid_big_voucher(kit, django_capture_on_commit_callbacks)
    start, end = parse_period(None, None)
    statement = account_statement(kit.deposit, start, end)
    assert len(statement["rows"]) >= 36
    data = render_statement(statement_context(kit.deposit, statement))
    closing = f"{statement['closing']:,}".replace(",", ".")
    text = assert_on_the_page(
        data, "SAO KÊ TÀI KHOẢN", "Ngày giờ", "Chứng từ, nội dung", "Đối ứng", "Ghi Nợ", "Ghi Có", "Số dư",
        "999.999.999.999", closing, "Cộng phát sinh", "Số dư cuối kỳ", voucher.number,
    )
    # Each row's running balance is printed (the column that used to fall off),
    # and each amount on one line: a word of its own, not broken in its cell.
    words = set(text.split())
    for row in statement["rows"]:
        for value in (row.amount, row.balance_after):
            assert f"{value:,}".replace(",", ".") in words, value
    for total in (statement["total_debits"], statement["total_credits"]):
        assert f"{total:,}".replace(",", ".") in words, total


def test_result_and_debit_advice_with_long_data_stay_on_a4(long_world, django_capture_on_commit_callbacks):
    kit = long_world
    voucher = _paid_big_voucher(kit, django_capture_on_commit_callbacks)
    total = f"{12 * BIG:,}".replace(",", ".")
    assert_on_the_page(
        render_result(result_context(voucher)),
        "ỦY NHIỆM CHI", "Nội dung thanh toán", "Mã NDKT", "Mã chương", "Mã ngành KT", "Mã nguồn NSNN", "Số tiền",
        "999.999.999.999", total, voucher.number, LONG_PAYEE[:20], LONG_UNIT[:17], "Kế toán trưởng",
        "Chủ tài khoản", "PHẦN DO KHO BẠC NHÀ NƯỚC GHI", voucher.content_hash[:16],
    )
    transfer = Transfer.objects.get(voucher=voucher, kind=TransferKind.PAYMENT)
    assert_on_the_page(
        render_debit_advice(debit_advice_context(transfer)),
        "GIẤY BÁO NỢ", total, LONG_UNIT[:17], LONG_PAYEE[:20], voucher.number, transfer.key[:16],
        "Số dư sau giao dịch",
    )
