"""The treasury's retry of a failed voucher payment (page action; the URL is
/payments/vouchers/<pk>/retry/, name `payment-retry`, as before issue 15)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from treasury_portal.pages import redirect_next, role_required
from vouchers.payment import services


@role_required(Role.APPROVER, Role.ADMINISTRATOR)
@require_POST
def payment_retry(request: HttpRequest, pk: int) -> HttpResponse:
    services.payment_retry(actor=request.user, voucher_id=pk)
    messages.success(request, _("Đã đưa khoản thanh toán vào hàng chờ để thanh toán lại."))
    return redirect_next(request, "payments-overview")
