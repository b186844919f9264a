"""The voucher's result PDF (issue 15: it reads the voucher, so it lives above
payments) and the public verification of a result document. The PDF is laid out
and signed by payments.pdf and stored by payments.services.documents.document_store;
the Document rows are payments'. `result_context` was payments.selectors.documents',
`result_document_render` and the verification were payments'."""

from django.utils import timezone

from payments import pdf
from payments.models import Document, DocumentKind, Transfer, TransferKind
from payments.pdf import qr_svg_data_uri, verification_url
from payments.selectors.documents import result_document
from payments.services.documents import document_store
from treasury_portal.amount_words import amount_in_words
from treasury_portal.errors import NotFound
from vouchers.models import Voucher, VoucherStatus
from vouchers.selectors import access_voucher, signature_checks, voucher_detail_queryset


def _person(user) -> str:  # noqa: ANN001
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _local(dt):  # noqa: ANN001, ANN202
    return timezone.localtime(dt) if dt else None


def _events(voucher) -> dict[str, object]:  # noqa: ANN001
    """The last event of each action (control passed, approved, paid)."""
    last: dict[str, object] = {}
    for event in voucher.events.select_related("actor").order_by("created_at", "id"):
        last[event.action] = event
    return last


def result_context(voucher) -> dict:  # noqa: ANN001
    """The result document of a paid voucher, laid out like the official form
    (C2-02a/NS budget-estimate withdrawal, or C4-02a/KB payment order)."""
    voucher = voucher_detail_queryset().get(pk=voucher.pk)
    events = _events(voucher)
    passed, approved, paid = events.get("pass"), events.get("approve"), events.get("pay")
    lines = list(voucher.lines.all())
    levels = sorted({line.budget_line.budget_level for line in lines})
    programmes = sorted({line.budget_line.programme for line in lines})
    if voucher.deposit_account_id:
        debit_accounts = [voucher.deposit_account.number]
    else:
        debit_accounts = [f"9523.{level}.{voucher.unit.code}" for level in levels]
    signatures = {c["role"]: c for c in signature_checks(voucher)}
    transfers = list(Transfer.objects.filter(voucher=voucher, kind=TransferKind.PAYMENT).order_by("id"))
    is_payment_order = voucher.procedure.code.startswith("C4")
    return {
        "voucher": voucher,
        "unit": voucher.unit,
        "office": voucher.unit.office,
        "procedure_code": voucher.procedure.code,
        "title": "ỦY NHIỆM CHI" if is_payment_order else "GIẤY RÚT DỰ TOÁN NGÂN SÁCH",
        "is_payment_order": is_payment_order,
        "is_advance": voucher.mode == "advance",
        "lines": lines,
        "budget_levels": levels,
        "programmes": programmes,
        "debit_accounts": debit_accounts,
        "total": voucher.total_amount,
        "amount_words": amount_in_words(voucher.total_amount),
        "chief": signatures.get("chief_accountant"),
        "holder": signatures.get("account_holder"),
        "controller": _person(passed.actor) if passed else _person(voucher.controller),
        "controlled_at": _local(passed.created_at) if passed else None,
        "approver": _person(approved.actor) if approved else _person(voucher.approver),
        "approved_at": _local(approved.created_at) if approved else None,
        "paid_at": _local(paid.created_at) if paid else None,
        "received_at": _local(voucher.received_at),
        "transfers": transfers,
        "verify_url": verification_url(voucher.content_hash),
        "qr": qr_svg_data_uri(verification_url(voucher.content_hash)),
        "generated_at": timezone.localtime(),
    }


def result_document_render(*, voucher_id: int) -> Document | None:
    """The result PDF of a paid voucher (None while it is not paid)."""
    voucher = Voucher.objects.filter(pk=voucher_id, status=VoucherStatus.PAID).first()
    if voucher is None:
        return None
    existing = Document.objects.filter(kind=DocumentKind.RESULT, voucher=voucher, rendered_at__isnull=False).first()
    if existing is not None:
        return existing
    context = result_context(voucher)
    content = pdf.sign_pdf(pdf.render_result(context), office=context["office"], reason=f"Kết quả {voucher.number}")
    return document_store(
        kind=DocumentKind.RESULT, lookup={"voucher": voucher}, name=f"result-{voucher.pk}", content=content
    )


def results_missing(*, limit: int = 500) -> list[int]:
    """Paid vouchers without a rendered result PDF (for the documents sweeper)."""
    rendered = Document.objects.filter(kind=DocumentKind.RESULT, rendered_at__isnull=False).values("voucher_id")
    return list(
        Voucher.objects.filter(status=VoucherStatus.PAID)
        .exclude(pk__in=rendered)
        .values_list("pk", flat=True)[:limit]
    )


def access_result_voucher(user, voucher_id: int):  # noqa: ANN001, ANN201
    """The voucher if the user may see it and it is paid; 404 otherwise."""
    voucher = access_voucher(user, voucher_id, detail=False)
    if voucher.status != VoucherStatus.PAID:
        raise NotFound()
    return voucher


def verification(content_hash: str) -> dict | None:
    """What the public verification page may say about a result document:
    whether it is genuine and its status, nothing confidential (no amounts,
    no payee, no accounts)."""
    if len(content_hash) != 64 or any(c not in "0123456789abcdef" for c in content_hash):
        return None
    voucher = (
        Voucher.objects.filter(content_hash=content_hash)
        .exclude(status=VoucherStatus.DRAFT)
        .select_related("unit__office", "procedure")
        .order_by("-id")
        .first()
    )
    if voucher is None:
        return None
    paid = voucher.events.filter(action="pay").order_by("-created_at").first()
    document = result_document(voucher)
    return {
        "number": voucher.number,
        "receipt_number": voucher.receipt_number,
        "procedure": voucher.procedure.code,
        "status": voucher.status,
        "status_label": VoucherStatus(voucher.status).label,
        "is_paid": voucher.status == VoucherStatus.PAID,
        "office": voucher.unit.office.name if voucher.unit.office_id else "",
        "paid_at": _local(paid.created_at) if paid else None,
        "document_sha256": document.sha256 if document else "",
        "content_hash": voucher.content_hash,
    }
