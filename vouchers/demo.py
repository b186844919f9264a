"""Demo and reference data of the vouchers app (seed_demo). Idempotent.

The procedure catalogue (with the newer rule as a future version), document
requirements, control checklists, deficiency and refusal codes, the working-day
calendar of this year and the next, the list of banks, and for the demo units
budget lines of the current fiscal year allocated through the budget service.
"""

from datetime import date

from django.db import transaction

from vouchers.calendar_seed import vietnam_calendar_rows
from vouchers.models import (
    CalendarDay,
    ChecklistItem,
    DocumentKind,
    DocumentRequirement,
    Procedure,
    ProcedureVersion,
    ReasonCode,
    ReasonKind,
)
from vouchers.selectors import local_today, work_calendar_invalidate

CURRENT_FROM = date(2020, 3, 20)
CURRENT_BASIS = "Nghị định 11/2020/NĐ-CP"
NEWER_FROM = date(2027, 1, 1)
NEWER_BASIS = "Quy định mới: 1 ngày làm việc; 2 ngày từ 25–31/12 và 25–31/01"
NEWER_PEAKS = [["12-25", "12-31"], ["01-25", "01-31"]]
CONTRACT_THRESHOLD = 50_000_000

_CONTRACT = (DocumentKind.CONTRACT, CONTRACT_THRESHOLD, "Hợp đồng (khi giá trị trên 50.000.000 đồng)",
             "Contract (when the amount exceeds 50,000,000 VND)")
_ACCEPTANCE = (DocumentKind.ACCEPTANCE, CONTRACT_THRESHOLD,
               "Biên bản nghiệm thu hoặc bảng xác định giá trị khối lượng hoàn thành (trên 50.000.000 đồng)",
               "Acceptance record or completed-work valuation (above 50,000,000 VND)")
_PAYMENT_LIST = (DocumentKind.PAYMENT_LIST, None, "Bảng kê thanh toán tạm ứng", "Statement of advance settlement")
_CONTRACT_ALWAYS = (DocumentKind.CONTRACT, None, "Hợp đồng", "Contract")

# code, mode, Vietnamese name, English name, filed as a voucher, days now,
# spending (takes the newer rule), documents
PROCEDURES = [
    ("C2-02a/NS", "payment", "Rút dự toán ngân sách – thực chi", "Budget-estimate withdrawal – actual spending",
     True, 2, True, [_CONTRACT, _ACCEPTANCE]),
    ("C2-02a/NS", "advance", "Rút dự toán ngân sách – tạm ứng", "Budget-estimate withdrawal – advance",
     True, 1, True, [_CONTRACT]),
    ("C2-03/NS", "", "Thanh toán tạm ứng (chuyển tạm ứng sang thực chi)", "Settlement of an advance",
     True, 1, True, [_PAYMENT_LIST, _ACCEPTANCE]),
    ("C4-02a/KB", "", "Ủy nhiệm chi từ tài khoản tiền gửi", "Payment order from a deposit account",
     True, 1, True, [_CONTRACT]),
    ("C2-12/NS", "", "Cam kết chi theo hợp đồng", "Spending commitment against a contract",
     False, 1, True, [_CONTRACT_ALWAYS]),
    ("DK-KY", "", "Đăng ký, thay đổi người ký và khóa ký của đơn vị", "Register or change signers and signing keys",
     False, 1, False, []),
    ("XN-SD", "", "Xác nhận số dư tài khoản", "Confirmation of account balances", False, 1, False, []),
]

CHECKLIST = [
    ("CK01", "Chứng từ lập đúng mẫu, đủ hai chữ ký số hợp lệ", "Correct form, two valid digital signatures"),
    ("CK02", "Nội dung chi đúng chế độ, tiêu chuẩn, định mức", "Spending within the rules, standards and norms"),
    ("CK03", "Trong phạm vi dự toán được giao, đúng mã phân loại", "Within the allocated estimate, correct codes"),
    ("CK04", "Hồ sơ đủ tài liệu theo quy định", "Dossier complete"),
    ("CK05", "Thông tin đơn vị nhận tiền khớp hợp đồng, hóa đơn", "Payee matches the contract and invoices"),
]

REASONS = [
    (ReasonKind.DEFICIENCY, "TL01", "Thiếu hợp đồng", "Contract missing"),
    (ReasonKind.DEFICIENCY, "TL02", "Thiếu biên bản nghiệm thu / bảng xác định khối lượng hoàn thành",
     "Acceptance record missing"),
    (ReasonKind.DEFICIENCY, "TL03", "Thiếu hóa đơn hoặc bảng kê", "Invoice or statement missing"),
    (ReasonKind.DEFICIENCY, "TL04", "Sai mã phân loại ngân sách (chương, loại-khoản, NDKT)", "Wrong budget codes"),
    (ReasonKind.DEFICIENCY, "TL05", "Thông tin đơn vị nhận tiền không khớp hồ sơ", "Payee details do not match"),
    (ReasonKind.DEFICIENCY, "TL06", "Nội dung chi chưa rõ hoặc chưa khớp tài liệu", "Description unclear"),
    (ReasonKind.DEFICIENCY, "TL99", "Thiếu sót khác (ghi rõ)", "Other deficiency (see note)"),
    (ReasonKind.REFUSAL, "TC01", "Chi sai chế độ, tiêu chuẩn, định mức", "Spending outside the rules"),
    (ReasonKind.REFUSAL, "TC02", "Không có trong dự toán được giao", "Not in the allocated estimate"),
    (ReasonKind.REFUSAL, "TC03", "Không đúng thẩm quyền phê duyệt chi", "No authority to order the spending"),
    (ReasonKind.REFUSAL, "TC04", "Hồ sơ không trung thực", "Dossier not genuine"),
    (ReasonKind.REFUSAL, "TC99", "Lý do khác (ghi rõ)", "Other reason (see note)"),
]

# short code, NAPAS BIN (as in VietQR), BIC, name
BANKS = [
    ("VCB", "970436", "BFTVVNVX", "Ngân hàng TMCP Ngoại thương Việt Nam (Vietcombank)"),
    ("BIDV", "970418", "BIDVVNVX", "Ngân hàng TMCP Đầu tư và Phát triển Việt Nam (BIDV)"),
    ("CTG", "970415", "ICBVVNVX", "Ngân hàng TMCP Công thương Việt Nam (VietinBank)"),
    ("AGRIBANK", "970405", "VBAAVNVX", "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam (Agribank)"),
    ("TCB", "970407", "VTCBVNVX", "Ngân hàng TMCP Kỹ thương Việt Nam (Techcombank)"),
    ("MB", "970422", "MSCBVNVX", "Ngân hàng TMCP Quân đội (MB)"),
    ("ACB", "970416", "ASCBVNVX", "Ngân hàng TMCP Á Châu (ACB)"),
    ("VPB", "970432", "VPBKVNVX", "Ngân hàng TMCP Việt Nam Thịnh Vượng (VPBank)"),
    ("STB", "970403", "SGTTVNVX", "Ngân hàng TMCP Sài Gòn Thương Tín (Sacombank)"),
    ("SHB", "970443", "SHBAVNVX", "Ngân hàng TMCP Sài Gòn – Hà Nội (SHB)"),
    ("TPB", "970423", "TPBVVNVX", "Ngân hàng TMCP Tiên Phong (TPBank)"),
    ("HDB", "970437", "HDBCVNVX", "Ngân hàng TMCP Phát triển TP Hồ Chí Minh (HDBank)"),
    ("VIB", "970441", "VNIBVNVX", "Ngân hàng TMCP Quốc tế Việt Nam (VIB)"),
    ("MSB", "970426", "MCOBVNVX", "Ngân hàng TMCP Hàng Hải Việt Nam (MSB)"),
    ("OCB", "970448", "ORCOVNVX", "Ngân hàng TMCP Phương Đông (OCB)"),
    ("EIB", "970431", "EBVIVNVX", "Ngân hàng TMCP Xuất Nhập khẩu Việt Nam (Eximbank)"),
    ("SEAB", "970440", "SEAVVNVX", "Ngân hàng TMCP Đông Nam Á (SeABank)"),
    ("LPB", "970449", "LVBKVNVX", "Ngân hàng TMCP Lộc Phát Việt Nam (LPBank)"),
]

# NDKT, name, allocation in đồng
BUDGET_LINES = [
    ("6001", "Tiền lương", 2_400_000_000),
    ("6501", "Tiền điện", 180_000_000),
    ("6502", "Tiền nước", 36_000_000),
    ("6601", "Cước phí điện thoại", 24_000_000),
    ("6605", "Cước phí Internet", 18_000_000),
    ("6900", "Sửa chữa, duy tu tài sản", 300_000_000),
    ("7000", "Chi phí nghiệp vụ chuyên môn", 250_000_000),
]
# unit prefix → (chapter, sector, funding source, budget level, administrator)
UNIT_CLASSIFICATION = {
    "a": ("422", "073", "13", "2", "tadmin"),
    "b": ("423", "132", "13", "2", "tadmin_b"),
}


def seed_catalogue() -> None:
    for position, (code, mode, name_vi, name_en, files, days, spending, docs) in enumerate(PROCEDURES):
        procedure, _ = Procedure.objects.update_or_create(
            code=code, mode=mode,
            defaults={"name_vi": name_vi, "name_en": name_en, "files_voucher": files, "position": position},
        )
        versions = [(CURRENT_FROM, days, None, [], CURRENT_BASIS)]
        if spending:
            versions.append((NEWER_FROM, 1, 2, NEWER_PEAKS, NEWER_BASIS))
        for effective_from, base, peak, periods, basis in versions:
            version, created = ProcedureVersion.objects.get_or_create(
                procedure=procedure, effective_from=effective_from,
                defaults={"processing_days": base, "peak_processing_days": peak, "peak_periods": periods,
                          "legal_basis": basis},
            )
            if created:
                DocumentRequirement.objects.bulk_create(
                    DocumentRequirement(version=version, kind=kind, min_total=min_total, note_vi=vi, note_en=en)
                    for kind, min_total, vi, en in docs
                )
                if files:
                    ChecklistItem.objects.bulk_create(
                        ChecklistItem(version=version, code=c, text_vi=vi, text_en=en) for c, vi, en in CHECKLIST
                    )


def seed_reason_codes() -> None:
    for kind, code, vi, en in REASONS:
        ReasonCode.objects.get_or_create(kind=kind, code=code, defaults={"text_vi": vi, "text_en": en})


def seed_calendar(years: list[int]) -> int:
    """Rows of the `holidays` library for `years`; rows administrators already
    have (edited or added) are left alone."""
    existing = set(CalendarDay.objects.filter(date__year__in=years).values_list("date", flat=True))
    rows = [
        CalendarDay(date=day, kind=kind, name=name[:255])
        for day, kind, name in vietnam_calendar_rows(years)
        if day not in existing
    ]
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)
    work_calendar_invalidate()
    return len(rows)


def seed_banks() -> None:
    from payments.models import Bank

    for code, bin_, bic, name in BANKS:
        bank, created = Bank.objects.get_or_create(code=code, defaults={"bin": bin_, "bic": bic, "name": name})
        if not created and not (bank.bin and bank.bic):  # seeded before the directory had BINs
            bank.bin, bank.bic = bank.bin or bin_, bank.bic or bic
            bank.save(update_fields=["bin", "bic"])


def seed_budget_lines(world, fiscal_year: int) -> None:  # noqa: ANN001
    from payments.services.budget import budget_allocate, budget_line_get_or_create

    for prefix, unit in world.units.items():
        if prefix not in UNIT_CLASSIFICATION:
            continue
        chapter, sector, source, level, admin = UNIT_CLASSIFICATION[prefix]
        actor = world.users.get(admin)
        for ndkt, name, amount in BUDGET_LINES:
            line = budget_line_get_or_create(
                actor=actor, unit=unit, fiscal_year=fiscal_year, chapter=chapter, sector=sector, ndkt=ndkt,
                funding_source=source, budget_level=level, name=name,
            )
            budget_allocate(
                actor=actor, budget_line=line, amount=amount, key=f"demo-allocation:{unit.code}:{fiscal_year}:{ndkt}",
                note="Dự toán giao đầu năm (demo)",
            )


@transaction.atomic
def seed(world) -> None:  # noqa: ANN001
    year = local_today().year
    seed_catalogue()
    seed_reason_codes()
    seed_calendar([year, year + 1])
    seed_banks()
    seed_budget_lines(world, year)
