"""Support staff look at the integrators' webhook endpoints and deliveries here
(read only: endpoints change through their owners' pages, deliveries through the
deliverer). The signing secret is never shown."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.selectors import error_text
from treasury_portal.admin_site import TreasuryAdminMixin, portal_admin_site


class ReadOnlyAdminMixin(TreasuryAdminMixin):
    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WebhookEndpoint, site=portal_admin_site)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["url", "organisation", "status", "failed_deliveries", "created_at"]
    list_filter = ["status"]
    search_fields = ["url", "organisation__code", "organisation__name"]
    list_select_related = ["organisation"]
    fields = [
        "organisation", "url", "description", "event_types", "status", "disabled_at", "failed_deliveries",
        "failing_since", "created_by", "created_at", "secret_rotated_at",
    ]


class WebhookAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    fields = ["number", "started_at", "duration_ms", "status_code", "error_text", "succeeded"]
    readonly_fields = fields

    @admin.display(description=_("lỗi"))
    def error_text(self, obj: WebhookAttempt) -> str:
        return error_text(obj.error) or "-"


@admin.register(WebhookDelivery, site=portal_admin_site)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status"]
    search_fields = ["endpoint__url", "event__public_id"]
    list_select_related = ["endpoint", "event"]
    fields = [
        "endpoint", "event", "status", "attempts", "next_attempt_at", "last_status_code", "last_error_text",
        "replays", "created_at", "delivered_at",
    ]
    readonly_fields = ["last_error_text"]
    inlines = [WebhookAttemptInline]

    @admin.display(description=_("lỗi gần nhất"))
    def last_error_text(self, obj: WebhookDelivery) -> str:
        return error_text(obj.last_error) or "-"
