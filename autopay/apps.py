from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutopayConfig(AppConfig):
    name = "autopay"
    verbose_name = _("Thanh toán tự động")
