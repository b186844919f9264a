"""API of the voucher's payment: POST /api/v1/vouchers/{id}/retry-payment
(operation `voucher_retry_payment`, as before issue 15)."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from payments.apis import PaymentIntentSerializer
from payments.models import PaymentIntent
from treasury_portal.api import PortalAPIView
from vouchers.payment import services


class VoucherRetryPaymentApi(PortalAPIView):
    @extend_schema(operation_id="voucher_retry_payment", request=None, responses=PaymentIntentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        intent = services.payment_retry(actor=request.user, voucher_id=pk)
        intent = PaymentIntent.objects.select_related("voucher__unit", "clearing_bank").get(pk=intent.pk)
        return Response(PaymentIntentSerializer(intent).data)
