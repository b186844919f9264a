"""What the PDFs show, read in a few queries, and the permission-checked access
to documents. The voucher's result PDF and the public verification read vouchers:
they live with them (vouchers/payment/documents.py, issue 15)."""

from django.utils import timezone

from payments.models import Account, Document, DocumentKind, Transfer
from treasury_portal.errors import NotFound


def _person(user) -> str:  # noqa: ANN001
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _local(dt):  # noqa: ANN001, ANN202
    return timezone.localtime(dt) if dt else None


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
