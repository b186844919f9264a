"""The autopay parts of the home page (settings.PORTAL_HOME_SECTIONS): a unit
sees how many of its utility invoices went to the exception list lately; a
treasury administrator sees the authorizations awaiting confirmation, and
treasury staff their offices' recent exceptions. A few counting queries."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import TREASURY_ROLES, UNIT_ROLES, Role

LISTED = 5


def unit_section(request: HttpRequest) -> dict | None:
    user = request.user
    if not user.is_authenticated or not account_selectors.has_role(user, *UNIT_ROLES):
        return None
    from autopay.page_selectors import RECENT_DAYS, unit_recent_exceptions

    invoices = reverse("autopay-unit-invoices")
    return {
        "title": _("Thanh toán tự động hóa đơn"),
        "count": unit_recent_exceptions(user).count(),
        "text": _("hóa đơn ngoại lệ trong %(days)s ngày qua cần đơn vị xem xét.") % {"days": RECENT_DAYS},
        "url": f"{invoices}?status=exception",
        "items": [
            {"url": reverse("autopay-authorizations"), "label": _("Ủy quyền thanh toán tự động"), "note": ""},
            {"url": invoices, "label": _("Hóa đơn đã thanh toán và giấy báo nợ"), "note": ""},
        ],
    }


def treasury_section(request: HttpRequest) -> dict | None:
    user = request.user
    if not user.is_authenticated or not account_selectors.has_role(user, *TREASURY_ROLES):
        return None
    from autopay.page_selectors import RECENT_DAYS, treasury_recent_exceptions
    from autopay.selectors import awaiting_confirmation

    exceptions = treasury_recent_exceptions(user).count()
    exception_item = {
        "url": reverse("autopay-exceptions"),
        "label": _("Ngoại lệ trong %(days)s ngày qua: %(n)s") % {"days": RECENT_DAYS, "n": exceptions},
        "note": "",
    }
    runs_item = {"url": reverse("autopay-runs"), "label": _("Các lần chạy thanh toán tự động"), "note": ""}
    if account_selectors.has_role(user, Role.ADMINISTRATOR):
        waiting = list(awaiting_confirmation(user)[: LISTED + 1])
        count = awaiting_confirmation(user).count() if len(waiting) > LISTED else len(waiting)
        items = [
            {
                "url": reverse("autopay-authorization", args=[a.pk]),
                "label": str(a),
                "note": f"{a.unit.code} – {a.unit.name} · {a.supplier.name}",
            }
            for a in waiting[:LISTED]
        ]
        return {
            "title": _("Ủy quyền thanh toán tự động chờ xác nhận"),
            "count": count,
            "text": _("ủy quyền đã đủ chữ ký đang chờ bạn xác nhận."),
            "url": reverse("autopay-confirmations"),
            "items": [*items, exception_item, runs_item],
        }
    return {
        "title": _("Thanh toán tự động hóa đơn"),
        "count": exceptions,
        "text": _("hóa đơn ngoại lệ trong %(days)s ngày qua tại các đơn vị bạn phụ trách.") % {"days": RECENT_DAYS},
        "url": reverse("autopay-exceptions"),
        "items": [runs_item],
    }
