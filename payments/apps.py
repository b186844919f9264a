from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Ngân sách và thanh toán")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from payments.models import Bank
        from payments.selectors.banks import directory_invalidate

        for signal in (post_save, post_delete):
            signal.connect(directory_invalidate, sender=Bank, dispatch_uid=f"payments_bank_directory_{signal}")
