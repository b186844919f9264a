"""Treasury administrators tune the risk rules (thresholds, severity, on/off) on
each rule's change page (no list_editable: its unlabelled list inputs fail axe).
Alerts change only through monitoring.services (their pages, scoped)."""

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from monitoring.models import RiskRule
from treasury_portal.admin_site import TreasuryAdminMixin, as_code, portal_admin_site


@admin.register(RiskRule, site=portal_admin_site)
class RiskRuleAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name_text", "severity", "monitored", "enabled", "params_code"]
    fields = ["code", "name_vi", "name_en", "severity", "monitored", "params", "enabled"]
    readonly_fields = ["code"]

    @admin.display(description=_("tên"))
    def name_text(self, obj: RiskRule) -> str:
        return obj.name

    @admin.display(description=_("ngưỡng"))
    def params_code(self, obj: RiskRule) -> str:
        return as_code(json.dumps(obj.params, ensure_ascii=False, sort_keys=True))

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False  # a rule needs its function (monitoring.rules): its row comes with the code
