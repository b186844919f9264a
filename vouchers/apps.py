from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VouchersConfig(AppConfig):
    name = "vouchers"
    verbose_name = _("Chứng từ")

    def ready(self) -> None:
        # Payments' notifications name a voucher's status in the reader's language.
        from payments.selectors.notifications import voucher_statuses_register
        from vouchers.models import VoucherStatus

        voucher_statuses_register(VoucherStatus)

        # A voucher's event row is its notification outbox: the worker's deliverer
        # and sweep drain the pending events into notifications (issue 15).
        from payments.services.notifications import notification_source_register
        from vouchers.notifications import voucher_events_drain

        notification_source_register(voucher_events_drain)

        # A unit that moves to another office takes its vouchers along (accounts' admin sends it).
        from accounts.signals import unit_office_changed

        unit_office_changed.connect(_follow_unit_office, dispatch_uid="vouchers_follow_unit_office")
        # Payments' bank status import reverses a rejected transfer and tells the
        # voucher's side (issue 15: payments never imports vouchers).
        from payments.services.bank_status import rejection_handler_register
        from vouchers.payment.services import voucher_payment_rejected

        rejection_handler_register(voucher_payment_rejected)

        # Payments' reconcile checks the vouchers behind the money too.
        from payments.selectors.reconcile import check_register
        from vouchers.payment.reconcile import check_voucher_budget, check_voucher_payments

        check_register(check_voucher_budget)
        check_register(check_voucher_payments)

        # Payments' year end (the office's FiscalYearClose) carries or refuses the open vouchers.
        from payments.selectors.yearend import year_end_vouchers_register
        from vouchers.yearend import year_end_vouchers

        year_end_vouchers_register(year_end_vouchers())

        # The per-process copy of the catalogue (selectors.procedure_versions) is
        # dropped when a row of it is saved or deleted in this process.
        from django.db.models.signals import post_delete, post_save

        from vouchers.models import ChecklistItem, DocumentRequirement, Procedure, ProcedureVersion
        from vouchers.selectors import catalogue_invalidate

        for model in (Procedure, ProcedureVersion, DocumentRequirement, ChecklistItem):
            for signal in (post_save, post_delete):
                signal.connect(catalogue_invalidate, sender=model, dispatch_uid=f"vouchers_catalogue_{signal}_{model}")


def _follow_unit_office(sender, *, unit, **kwargs) -> None:  # noqa: ANN001, ARG001 - a signal receiver
    from vouchers.services import vouchers_follow_unit_office

    vouchers_follow_unit_office(unit=unit)
