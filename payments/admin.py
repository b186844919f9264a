"""Admin of the payments app. Money rows are read-only here: balances, transfers,
intents and documents change only through the services (transfer_post, the
pay task, deposits), which keep the ledger balanced. Banks are reference data."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from payments.models import Account, Bank, BankFile, FiscalYearClose, Notification, PaymentIntent, Transfer
from treasury_portal.admin_site import TreasuryAdminMixin, as_code, portal_admin_site


class ReadOnlyAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    # Fields shown through a display method instead (a code as code, a text in the reader's language).
    shown_as: dict[str, str] = {}

    def get_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        fields: list[str] = []
        for name in super().get_fields(request, obj):
            name = self.shown_as.get(name, name)
            if name not in fields:
                fields.append(name)
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), *self.shown_as.values()]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Bank, site=portal_admin_site)
class BankAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "bin", "bic", "name"]
    search_fields = ["code", "bin", "bic", "name"]


@admin.register(Account, site=portal_admin_site)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["number", "name", "kind", "unit", "balance", "allow_negative"]
    list_filter = ["kind", "budget_level"]
    search_fields = ["number", "name", "unit__code"]
    list_select_related = ["unit"]


@admin.register(Transfer, site=portal_admin_site)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "key_code", "kind", "debit_account", "credit_account", "amount", "voucher"]
    list_filter = ["kind"]
    shown_as = {"key": "key_code", "description": "description_text"}
    search_fields = ["key", "debit_account__number", "credit_account__number", "voucher__number"]
    list_select_related = ["debit_account", "credit_account", "voucher"]
    date_hierarchy = "created_at"

    @admin.display(description=_("khóa chống trùng"), ordering="key")
    def key_code(self, obj: Transfer) -> str:
        return as_code(obj.key)

    @admin.display(description=_("diễn giải"))
    def description_text(self, obj: Transfer) -> str:
        return obj.description_text


@admin.register(PaymentIntent, site=portal_admin_site)
class PaymentIntentAdmin(ReadOnlyAdmin):
    list_display = ["voucher", "status", "attempts", "failure_code_code", "clearing_bank", "bank_file", "updated_at"]
    list_filter = ["status"]  # the failure codes are codes: searched, not listed as filter labels
    search_fields = ["voucher__number", "failure_code"]
    list_select_related = ["voucher", "clearing_bank", "bank_file"]
    shown_as = {"failure_code": "failure_code_code"}

    @admin.display(description=_("mã lỗi"), ordering="failure_code")
    def failure_code_code(self, obj: PaymentIntent) -> str:
        return as_code(obj.failure_code)


@admin.register(BankFile, site=portal_admin_site)
class BankFileAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "bank", "office", "cycle", "transfer_count", "control_sum", "created_at"]
    list_filter = ["bank"]
    list_select_related = ["bank", "office"]
    exclude = ["file"]  # downloaded through the permission-checked page, never by URL


@admin.register(Notification, site=portal_admin_site)
class NotificationAdmin(ReadOnlyAdmin):
    """The stored title and body are the Vietnamese texts sent by e-mail and SMS:
    shown here, like on the portal's page, in the reader's language."""

    list_display = ["created_at", "user", "kind", "title_text", "read_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "title"]
    list_select_related = ["user"]
    fields = ["user", "kind", "title_text", "body_text", "unit", "voucher", "created_at", "read_at"]
    readonly_fields = ["title_text", "body_text"]

    @admin.display(description=_("tiêu đề"))
    def title_text(self, obj: Notification) -> str:
        from payments.selectors.notifications import notification_text

        return notification_text(obj)["title"]

    @admin.display(description=_("nội dung"))
    def body_text(self, obj: Notification) -> str:
        from payments.selectors.notifications import notification_text

        return notification_text(obj)["body"]


@admin.register(FiscalYearClose, site=portal_admin_site)
class FiscalYearCloseAdmin(ReadOnlyAdmin):
    """Shown, not edited: an office's year end is set and closed on its page
    (/treasury/year-end/, payments.services.yearend), where its rules apply."""

    list_display = ["office", "year", "cut_off", "adjustment_until", "state", "carried", "refused", "closed_at"]
    list_filter = ["state", "year"]
    list_select_related = ["office"]
