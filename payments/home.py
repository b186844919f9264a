"""The payments side of the home page: what the signed-in user can act on."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.models import TREASURY_ROLES, Role
from payments.models import PaymentIntentStatus


def home_section(request: HttpRequest) -> dict | None:
    user = request.user
    roles = selectors.roles_of(user)
    if roles & set(TREASURY_ROLES):
        from payments.selectors.payment import intents_visible

        failed = intents_visible(user, status=PaymentIntentStatus.FAILED).count()
        return {
            "title": _("Thanh toán"),
            "count": failed,
            "url": reverse("payments-overview"),
            "text": _("khoản thanh toán lỗi chờ xử lý."),
        }
    if roles & {Role.ACCOUNT_HOLDER, Role.CHIEF_ACCOUNTANT, Role.PREPARER}:
        from payments.selectors.notifications import unread_count

        return {
            "title": _("Tài khoản và thông báo"),
            "count": unread_count(user),
            "url": reverse("notifications"),
            "text": _("thông báo chưa đọc (biến động số dư, trạng thái chứng từ)."),
            "items": [{"url": reverse("accounts-list"), "label": _("Số dư và sao kê tài khoản")}],
        }
    return None
