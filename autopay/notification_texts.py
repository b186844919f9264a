"""The autopay notices' texts in the reader's language, from their data (the
stored texts are Vietnamese): registered by autopay.apps as
payments.selectors.notifications.KIND_TEXTS[NotificationKind.AUTOPAY]
(moved from payments.selectors.notifications)."""

from django.utils.translation import gettext as _

from autopay.models import AuthorizationStatus, ExceptionCode
from autopay.reasons import render


def notification_text(data: dict) -> dict | None:
    """The autopay notices from their data (the stored texts are Vietnamese); None for older rows."""
    note = data.get("note") or ""
    if data.get("status") in AuthorizationStatus.values and "supplier" in data:
        title = _("Ủy quyền thanh toán tự động UQ-%(id)s (%(supplier)s): %(status)s") % {
            "id": data.get("authorization_id"), "supplier": data["supplier"],
            "status": AuthorizationStatus(data["status"]).label,
        }
        return {"title": title, "body": title + (f" — {note}" if note else "")}
    if data.get("exception_code") in ExceptionCode.values and "reason" in data:
        title = _("Hóa đơn %(number)s chưa được thanh toán tự động: %(code)s") % {
            "number": data.get("invoice_number", ""), "code": ExceptionCode(data["exception_code"]).label,
        }
        reason = render(data["reason"])
        return {"title": title, "body": f"{title}. {reason}" if reason else title}
    if data.get("action") in {"retry", "close"} and "period" in data:
        facts = {"number": data.get("invoice_number", ""), "period": data["period"], "who": data.get("who", "")}
        if data["action"] == "retry":
            title = _("Hóa đơn %(number)s kỳ %(period)s được đưa lại vào lần chạy thanh toán tự động tới (%(who)s)")
            title %= facts
        else:
            title = _("Ngoại lệ của hóa đơn %(number)s kỳ %(period)s đã được đóng (%(who)s)") % facts
        return {"title": title, "body": title + (f" — {note}" if note else "")}
    return None
