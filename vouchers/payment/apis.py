"""API of the voucher's payment: POST /api/v1/vouchers/{id}/retry-payment
(operation `voucher_retry_payment`) and GET /api/v1/vouchers/{id}/result.pdf
(`voucher_result_pdf`), as before issue 15."""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from payments.apis import PDF_RESPONSE, FileDownloadApi, PaymentIntentSerializer, file_response
from payments.models import PaymentIntent
from treasury_portal.api import PortalAPIView
from treasury_portal.errors import NotFound
from vouchers.payment import documents, services


class VoucherRetryPaymentApi(PortalAPIView):
    @extend_schema(operation_id="voucher_retry_payment", request=None, responses=PaymentIntentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        intent = services.payment_retry(actor=request.user, voucher_id=pk)
        intent = PaymentIntent.objects.select_related("voucher__unit", "clearing_bank").get(pk=intent.pk)
        return Response(PaymentIntentSerializer(intent).data)


class VoucherResultPdfApi(FileDownloadApi):

    @extend_schema(operation_id="voucher_result_pdf", responses=PDF_RESPONSE)
    def get(self, request: Request, pk: int) -> HttpResponse:
        voucher = documents.access_result_voucher(request.user, pk)
        document = documents.result_document(voucher) or documents.result_document_render(voucher_id=voucher.pk)
        if document is None:
            raise NotFound()
        return file_response(
            document.file.open("rb").read(), filename=f"ket-qua-{voucher.number}.pdf", content_type="application/pdf"
        )
