from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VouchersConfig(AppConfig):
    name = "vouchers"
    verbose_name = _("Chứng từ")

    def ready(self) -> None:
        # Payments' bank status import reverses a rejected transfer and tells the
        # voucher's side (issue 15: payments never imports vouchers).
        from payments.services.bank_status import rejection_handler_register
        from vouchers.payment.services import voucher_payment_rejected

        rejection_handler_register(voucher_payment_rejected)
