from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutopayConfig(AppConfig):
    name = "autopay"
    verbose_name = _("Thanh toán tự động")

    def ready(self) -> None:
        """Plug autopay into the payments features that cover it, without payments
        importing autopay: the bank files (its paid invoices), the reconciliation
        (its check) and the notifications (its texts)."""
        from autopay.bank_files import PaidInvoices
        from autopay.notification_texts import notification_text
        from autopay.reconcile import check_autopay
        from payments.models import NotificationKind
        from payments.selectors import notifications, reconcile
        from payments.services import bank_files

        if not any(isinstance(s, PaidInvoices) for s in bank_files.CREDIT_SOURCES):
            bank_files.CREDIT_SOURCES.append(PaidInvoices())
        reconcile.check_register(check_autopay)
        notifications.KIND_TEXTS[NotificationKind.AUTOPAY] = notification_text
