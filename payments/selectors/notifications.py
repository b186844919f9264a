"""Reads of the notification centre: the user's own notifications only."""

from django.db.models import QuerySet, TextChoices
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from payments.models import Channel, Notification, NotificationKind, NotificationPreference
from treasury_portal.errors import NotFound
from treasury_portal.money import format_money


def notifications_of(user, *, unread: bool = False) -> QuerySet[Notification]:  # noqa: ANN001
    if not user.is_authenticated:
        return Notification.objects.none()
    qs = Notification.objects.filter(user=user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(user) -> int:  # noqa: ANN001
    return notifications_of(user, unread=True).count()


def access_notification(user, pk: int) -> Notification:  # noqa: ANN001
    notification = notifications_of(user).filter(pk=pk).first()
    if notification is None:
        raise NotFound()
    return notification


# The voucher statuses' names (issue 15: payments never imports vouchers; the
# vouchers app registers its VoucherStatus in VouchersConfig.ready). A status
# nobody registered has no name: the notification keeps its stored text.
_voucher_statuses: type[TextChoices] | None = None


def voucher_statuses_register(choices: type[TextChoices]) -> None:
    global _voucher_statuses  # noqa: PLW0603 - the registry is this module's one slot
    _voucher_statuses = choices


def voucher_status_choices() -> list[tuple[str, str]]:
    """The voucher statuses as (value, label) choices (for a serializer's ChoiceField)."""
    return list(_voucher_statuses.choices) if _voucher_statuses is not None else []


def voucher_status_label(value: str) -> str | None:
    """The status's name in the active language, or None for an unknown status."""
    if _voucher_statuses is None or value not in _voucher_statuses.values:
        return None
    return str(_voucher_statuses(value).label)


# The year end's notices (payments.services.yearend): the status alone does not say it.
# A kind's texts written by an app above payments, from the notification's data
# (autopay.apps registers NotificationKind.AUTOPAY): None falls back to the stored texts.
KIND_TEXTS: dict = {}

YEAR_END_TITLES = {
    "year_end_carry": gettext_lazy(
        "Chứng từ %(number)s: năm ngân sách %(year)s đã khóa sổ, chứng từ được chuyển sang năm sau"
    ),
    "year_end_refuse": gettext_lazy("Chứng từ %(number)s: bị từ chối do năm ngân sách %(year)s đã khóa sổ"),
}


def notification_text(notification: Notification) -> dict:
    """Title and text in the reader's language, from the structured data
    (the stored title/body are the Vietnamese texts sent by e-mail and SMS)."""
    data = notification.data if isinstance(notification.data, dict) else {}
    if notification.kind == NotificationKind.BALANCE_CHANGE and "amount" in data:
        amount = data["amount"]
        title = _("Biến động số dư TK %(account)s: %(amount)s") % {
            "account": data.get("account", ""), "amount": ("+" if amount > 0 else "") + format_money(amount),
        }
        parts = [
            _("Đối tác: %(name)s (%(account)s).")
            % {"name": data.get("counterparty", ""), "account": data.get("counterparty_account", "")}
        ]
        if data.get("voucher_number"):
            parts.append(_("Chứng từ: %(number)s.") % {"number": data["voucher_number"]})
        parts.append(_("Số dư mới: %(balance)s.") % {"balance": format_money(data.get("balance", 0))})
        return {"title": title, "body": " ".join(parts)}
    if notification.kind == NotificationKind.BALANCE_CHANGE and "budget_line" in data:
        # A budget line above a usage level (written by the risk monitoring's budget rules).
        values = {"line": data["budget_line"], "used_percent": data.get("used_percent", ""),
                  "used": format_money(data.get("used")), "allocated": format_money(data.get("allocated")),
                  "percent": data.get("percent", "")}
        return {
            "title": _("Dòng dự toán %(line)s đã dùng %(used)s%%") % {"line": values["line"],
                                                                      "used": values["used_percent"]},
            "body": _("Đã dùng %(used)s trên %(allocated)s của dòng dự toán %(line)s, vượt mức %(percent)s%%.")
            % values,
        }
    if notification.kind == NotificationKind.VOUCHER_STATUS and data.get("action") in YEAR_END_TITLES:
        title = YEAR_END_TITLES[data["action"]] % {
            "number": data.get("voucher_number", ""), "year": data.get("year", ""),
        }
        return {"title": title, "body": data.get("note", "")}
    status_label = voucher_status_label(data.get("status")) if isinstance(data.get("status"), str) else None
    if notification.kind == NotificationKind.VOUCHER_STATUS and status_label is not None:
        title = _("Chứng từ %(number)s: %(status)s") % {
            "number": data.get("voucher_number", ""), "status": status_label,
        }
        return {"title": title, "body": data.get("note", "")}
    if notification.kind == NotificationKind.INTEGRATION and data.get("reason") == "failing":
        # Written by the integrations app (an integrator's webhook endpoint switched off).
        facts = {"url": str(data.get("endpoint_url", ""))[:120]}
        return {
            "title": _("Điểm nhận webhook %(url)s đã bị tắt do gửi lỗi nhiều lần") % facts,
            "body": _("Cổng đã tắt điểm nhận webhook %(url)s vì các lần gửi liên tục không thành công. Hãy kiểm tra "
                      "hệ thống nhận rồi bật lại; các sự kiện chờ gửi sẽ được gửi tiếp.") % {
                          "url": data.get("endpoint_url", "")},
        }
    if notification.kind == NotificationKind.SATISFACTION_FOLLOWUP and "followup_id" in data:
        return followup_opened_text(data)
    if notification.kind in KIND_TEXTS:
        text = KIND_TEXTS[notification.kind](data)
        if text is not None:
            return text
    return {"title": notification.title, "body": notification.body}


def followup_opened_text(data: dict) -> dict:
    """A satisfaction follow-up's notice (written by monitoring.satisfaction.services
    when a "dissatisfied" rating opens one) in the active language, from its data."""
    facts = {"number": data.get("voucher_number", ""), "unit": data.get("unit_name", "")}
    title = _("Phản ánh không hài lòng về chứng từ %(number)s cần theo dõi") % facts
    body = _("Đơn vị %(unit)s đánh giá không hài lòng về chứng từ %(number)s. Việc theo dõi đã được mở: "
             "hãy giao cho cán bộ phụ trách.") % facts
    if data.get("comment"):
        body += " " + _("Ý kiến của đơn vị: %(comment)s") % {"comment": data["comment"]}
    return {"title": title, "body": body}


def preferences_of(user) -> dict[tuple[str, str], bool]:  # noqa: ANN001
    """Every (kind, channel) with its setting (default on)."""
    stored = {
        (p.kind, p.channel): p.enabled for p in NotificationPreference.objects.filter(user=user)
    }
    return {(k, c): stored.get((k, c), True) for k in NotificationKind.values for c in Channel.values}
