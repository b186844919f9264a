"""What the PDFs show, read in a few queries, and the permission-checked access
to documents (result PDFs, debit advices) and the public verification."""

from django.utils import timezone

from payments.models import Account, Document, DocumentKind, Transfer, TransferKind
from payments.pdf import qr_svg_data_uri, verification_url
from treasury_portal.errors import NotFound


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
    from treasury_portal.amount_words import amount_in_words
    from vouchers.selectors import signature_checks, voucher_detail_queryset

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


def debit_advice_context(transfer: Transfer) -> dict:
    from treasury_portal.amount_words import amount_in_words

    account = transfer.debit_account
    return {
        "transfer": transfer,
        "account": account,
        "unit": account.unit,
        "office": account.unit.office if account.unit_id else None,
        "voucher": transfer.voucher,
        "counterparty": transfer.counterparty_name or transfer.credit_account.name,
        "counterparty_account": transfer.counterparty_account or transfer.credit_account.number,
        "amount_words": amount_in_words(transfer.amount),
        "balance_after": transfer.debit_balance_after,
        "posted_at": _local(transfer.created_at),
        "generated_at": timezone.localtime(),
    }


def statement_context(account: Account, statement: dict) -> dict:
    return {"account": account, "unit": account.unit, "generated_at": timezone.localtime(), **statement}


# --- access --------------------------------------------------------------------


def access_result_voucher(user, voucher_id: int):  # noqa: ANN001, ANN201
    """The voucher if the user may see it and it is paid; 404 otherwise."""
    from vouchers.models import VoucherStatus
    from vouchers.selectors import access_voucher

    voucher = access_voucher(user, voucher_id, detail=False)
    if voucher.status != VoucherStatus.PAID:
        raise NotFound()
    return voucher


def result_document(voucher) -> Document | None:  # noqa: ANN001
    return Document.objects.filter(kind=DocumentKind.RESULT, voucher=voucher, rendered_at__isnull=False).first()


def access_debit_advice_transfer(user, transfer_id: int) -> Transfer:  # noqa: ANN001
    """A debit of a unit account the user may see; 404 otherwise."""
    from accounts.selectors import unit_scope_q

    transfer = (
        Transfer.objects.filter(unit_scope_q(user, prefix="debit_account__unit"), pk=transfer_id)
        .select_related("debit_account__unit", "credit_account", "voucher")
        .first()
    )
    if transfer is None:
        raise NotFound()
    return transfer


def verification(content_hash: str) -> dict | None:
    """What the public verification page may say about a result document:
    whether it is genuine and its status, nothing confidential (no amounts,
    no payee, no accounts)."""
    from vouchers.models import Voucher, VoucherStatus

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
