"""Reads of the notification centre: the user's own notifications only."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from payments.models import Channel, Notification, NotificationKind, NotificationPreference
from treasury_portal.errors import NotFound


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


def notification_text(notification: Notification) -> dict:
    """Title and text in the reader's language, from the structured data
    (the stored title/body are the Vietnamese texts sent by e-mail and SMS)."""
    from vouchers.models import VoucherStatus
    from vouchers.templatetags.money import format_money

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
    if notification.kind == NotificationKind.VOUCHER_STATUS and data.get("status") in VoucherStatus.values:
        title = _("Chứng từ %(number)s: %(status)s") % {
            "number": data.get("voucher_number", ""), "status": VoucherStatus(data["status"]).label,
        }
        return {"title": title, "body": data.get("note", "")}
    return {"title": notification.title, "body": notification.body}


def preferences_of(user) -> dict[tuple[str, str], bool]:  # noqa: ANN001
    """Every (kind, channel) with its setting (default on)."""
    stored = {
        (p.kind, p.channel): p.enabled for p in NotificationPreference.objects.filter(user=user)
    }
    return {(k, c): stored.get((k, c), True) for k in NotificationKind.values for c in Channel.values}
