"""Reads of the voucher's payment (issue 15: the voucher page's result section
lives with the voucher; payments' rows are read through payments' models)."""

from django.urls import reverse

from accounts.selectors import user_has_treasury_role_over
from payments.models import Document, DocumentKind, PaymentIntent, Transfer, TransferKind
from vouchers.models import VoucherStatus
from vouchers.payment.services import RETRY_ROLES


def can_retry(user, voucher) -> bool:  # noqa: ANN001
    return user.is_superuser or user_has_treasury_role_over(user, voucher.unit, *RETRY_ROLES)


def voucher_result_context(user, voucher) -> dict:  # noqa: ANN001
    """What the voucher page's result section shows (templates/payments/_voucher_result.html):
    the payment's state and reason, the result PDF, the debit advices, the
    verification link, and the treasury's retry button. `voucher` must come
    from a permission-checked selector (vouchers.selectors.access_voucher)."""
    intent = PaymentIntent.objects.filter(voucher=voucher).first()
    failure = None
    if voucher.status == VoucherStatus.PAYMENT_FAILED:
        event = (
            voucher.events.filter(action__in=["fail_payment", "bank_reject"]).order_by("-created_at", "-id").first()
        )
        failure = event.note if event else (intent.last_error if intent else "")
    paid_event = None
    advices = []
    if voucher.status == VoucherStatus.PAID:
        paid_event = voucher.events.filter(action="pay").order_by("-created_at").first()
        transfers = Transfer.objects.filter(
            voucher=voucher, kind=TransferKind.PAYMENT, debit_account__unit__isnull=False
        )
        rendered = Document.objects.filter(
            kind=DocumentKind.DEBIT_ADVICE, transfer__in=transfers, rendered_at__isnull=False
        )
        documents = {d.transfer_id: d for d in rendered}
        for t in transfers.select_related("debit_account", "credit_account"):
            advices.append(
                {"transfer": t, "url": reverse("debit-advice-pdf", args=[t.pk]), "ready": t.pk in documents}
            )
    result = None
    if voucher.status == VoucherStatus.PAID:
        document = Document.objects.filter(kind=DocumentKind.RESULT, voucher=voucher, rendered_at__isnull=False).first()
        result = {
            "url": reverse("voucher-result-pdf", args=[voucher.pk]),
            "ready": document is not None,
            "sha256": document.sha256 if document else "",
        }
    return {
        "voucher": voucher,
        "show": voucher.status in (VoucherStatus.APPROVED, VoucherStatus.PAID, VoucherStatus.PAYMENT_FAILED),
        "status": voucher.status,
        "intent": intent,
        "failure": failure,
        "paid_at": paid_event.created_at if paid_event else None,
        "result": result,
        "advices": advices,
        "verify_url": reverse("verify", args=[voucher.content_hash]) if voucher.content_hash else "",
        "can_retry": voucher.status == VoucherStatus.PAYMENT_FAILED and can_retry(user, voucher),
        "retry_url": reverse("payment-retry", args=[voucher.pk]),
    }
