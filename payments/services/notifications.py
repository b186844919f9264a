"""The notification outbox: rows written in the cause's transaction."""

from django.utils.translation import gettext as _

from payments.models import Notification, NotificationKind


def notify_voucher_status(*, voucher, event) -> list[Notification]:  # noqa: ANN001
    """Called by every voucher transition inside its transaction: the voucher's
    preparer and its signers are told of the new status."""
    from vouchers.models import VoucherStatus

    recipients = {voucher.created_by_id}
    recipients |= set(voucher.signatures.values_list("signer_id", flat=True))
    title = _("Chứng từ %(number)s: %(status)s") % {
        "number": voucher.number,
        "status": VoucherStatus(event.to_status).label if event.to_status else event.action,
    }
    body = event.note or title
    rows = [
        Notification(
            user_id=user_id, kind=NotificationKind.VOUCHER_STATUS, title=title, body=body, unit_id=voucher.unit_id,
            voucher=voucher, data={"voucher_id": voucher.pk, "status": event.to_status, "action": event.action},
        )
        for user_id in sorted(recipients)
    ]
    return Notification.objects.bulk_create(rows)
