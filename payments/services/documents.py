"""Result documents and debit advices: rendered once, kept in private storage.

Rendered when first downloaded (the download views call the `*_render`
functions, which return the stored document when there is one), not when the
voucher is paid: at ~0.4 s of CPU a page, the two PDFs of every paid voucher
cost more than the rest of its life, and most are never opened on the day. The
documents queue's off-peak sweep (`sweep_documents`, at night) renders the rest
for the archive.

The voucher's result PDF is rendered by vouchers.payment.documents (it reads the
voucher) and stored here (`document_store`). Both are signed by the unit's
treasury office as they are rendered (PAdES,
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


def document_store(*, kind: str, lookup: dict, name: str, content: bytes) -> Document:
    """Write a rendered document under its unique constraint (the first writer's stands)."""
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
    return document_store(
        kind=DocumentKind.DEBIT_ADVICE, lookup={"transfer": transfer}, name=f"advice-{transfer.pk}",
        content=content,
    )


def debit_advices_missing(*, limit: int = 500) -> list[int]:
    """Unit debits without a rendered advice (for the sweeper; the vouchers'
    result PDFs: vouchers.payment.documents.results_missing)."""
    advised = Document.objects.filter(kind=DocumentKind.DEBIT_ADVICE, rendered_at__isnull=False).values("transfer_id")
    return list(
        Transfer.objects.filter(debit_account__unit__isnull=False)
        .exclude(pk__in=advised)
        .values_list("pk", flat=True)[:limit]
    )
