"""Pages of the voucher's payment, under their paths and names of before issue 15:
the treasury's retry (/payments/vouchers/<pk>/retry/), the result PDF
(/payments/vouchers/<pk>/result.pdf) and the public verification (/verify/<hash>)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from payments.apis import file_response
from treasury_portal.pages import redirect_next, role_required
from vouchers.payment import documents, services


@role_required(Role.APPROVER, Role.ADMINISTRATOR)
@require_POST
def payment_retry(request: HttpRequest, pk: int) -> HttpResponse:
    services.payment_retry(actor=request.user, voucher_id=pk)
    messages.success(request, _("Đã đưa khoản thanh toán vào hàng chờ để thanh toán lại."))
    return redirect_next(request, "payments-overview")


@login_required
@require_GET
def voucher_result_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    voucher = documents.access_result_voucher(request.user, pk)
    # Rendered on the documents queue after payment; on first download if not yet.
    document = documents.result_document(voucher) or documents.result_document_render(voucher_id=voucher.pk)
    if document is None:
        raise Http404
    return file_response(
        document.file.open("rb").read(), filename=f"ket-qua-{voucher.number}.pdf", content_type="application/pdf"
    )


@require_GET
def verify(request: HttpRequest, content_hash: str) -> HttpResponse:
    """Public: is a result document genuine, and what is its status."""
    info = documents.verification(content_hash.lower())
    return render(
        request, "payments/verify.html", {"info": info, "content_hash": content_hash}, status=200 if info else 404
    )
