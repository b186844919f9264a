"""Result documents and debit advices: rendered once, kept in private storage.

Rendered when first downloaded (the download views call the `*_render`
functions, which return the stored document when there is one), not when the
voucher is paid: at ~0.4 s of CPU a page, the two PDFs of every paid voucher
cost more than the rest of its life, and most are never opened on the day. The
documents queue's off-peak sweep (`sweep_documents`, at night) renders the rest
for the archive.

Both are signed by the unit's treasury office as they are rendered (PAdES,
payments.pdf.sign_pdf with the office's key from accounts.pki; docs/signing.md).

The render runs outside any transaction (it is slow CPU work); the Document
row is then written under its unique constraint, so two workers rendering the
same document leave one row (the second finds it rendered and stops).
"""

import hashlib

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments import pdf
from payments.models import Document, DocumentKind, Transfer


def _store(*, kind: str, lookup: dict, name: str, content: bytes) -> Document:
    digest = hashlib.sha256(content).hexdigest()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                document, _created = Document.objects.select_for_update().get_or_create(kind=kind, **lookup)
                if document.rendered_at:
                    return document  # another worker was first
                document.file.save(f"{name}-{digest[:16]}.pdf", ContentFile(content), save=False)
                document.sha256 = digest
                document.rendered_at = timezone.now()
                document.save(update_fields=["file", "sha256", "rendered_at"])
                return document
        except IntegrityError:  # a concurrent get_or_create inserted first: read it again
            continue
    return Document.objects.get(kind=kind, **lookup)


def result_document_render(*, voucher_id: int) -> Document | None:
    """The result PDF of a paid voucher (None while it is not paid)."""
    from payments.selectors.documents import result_context
    from vouchers.models import Voucher, VoucherStatus

    voucher = Voucher.objects.filter(pk=voucher_id, status=VoucherStatus.PAID).first()
    if voucher is None:
        return None
    existing = Document.objects.filter(kind=DocumentKind.RESULT, voucher=voucher, rendered_at__isnull=False).first()
    if existing is not None:
        return existing
    context = result_context(voucher)
    content = pdf.sign_pdf(pdf.render_result(context), office=context["office"], reason=f"Kết quả {voucher.number}")
    return _store(kind=DocumentKind.RESULT, lookup={"voucher": voucher}, name=f"result-{voucher.pk}", content=content)


def debit_advice_render(*, transfer_id: int) -> Document | None:
    """The debit advice (giấy báo nợ) of a debit of a unit's account."""
    from payments.selectors.documents import debit_advice_context

    transfer = (
        Transfer.objects.select_related("debit_account__unit", "credit_account", "voucher")
        .filter(pk=transfer_id, debit_account__unit__isnull=False)
        .first()
    )
    if transfer is None:
        return None
    existing = Document.objects.filter(
        kind=DocumentKind.DEBIT_ADVICE, transfer=transfer, rendered_at__isnull=False
    ).first()
    if existing is not None:
        return existing
    context = debit_advice_context(transfer)
    content = pdf.render_debit_advice(context)
    if context["office"] is not None:
        content = pdf.sign_pdf(content, office=context["office"], reason=f"Giấy báo Nợ GBN-{transfer.pk}")
    return _store(
        kind=DocumentKind.DEBIT_ADVICE, lookup={"transfer": transfer}, name=f"advice-{transfer.pk}",
        content=content,
    )


def documents_missing(*, limit: int = 500) -> tuple[list[int], list[int]]:
    """Paid vouchers without a rendered result and unit debits without an
    advice (for the sweeper)."""
    from vouchers.models import Voucher, VoucherStatus

    rendered = Document.objects.filter(kind=DocumentKind.RESULT, rendered_at__isnull=False).values("voucher_id")
    vouchers = list(
        Voucher.objects.filter(status=VoucherStatus.PAID)
        .exclude(pk__in=rendered)
        .values_list("pk", flat=True)[:limit]
    )
    advised = Document.objects.filter(kind=DocumentKind.DEBIT_ADVICE, rendered_at__isnull=False).values("transfer_id")
    transfers = list(
        Transfer.objects.filter(debit_account__unit__isnull=False)
        .exclude(pk__in=advised)
        .values_list("pk", flat=True)[:limit]
    )
    return vouchers, transfers
