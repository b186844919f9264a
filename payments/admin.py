"""Admin of the payments app. Money rows are read-only here: balances, transfers,
intents and documents change only through the services (transfer_post, the
pay task, deposits), which keep the ledger balanced. Banks are reference data."""

from django.contrib import admin
from django.http import HttpRequest

from payments.models import Account, Bank, BankFile, Notification, PaymentIntent, Transfer
from treasury_portal.admin_site import TreasuryAdminMixin, portal_admin_site


class ReadOnlyAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Bank, site=portal_admin_site)
class BankAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "bic", "name"]
    search_fields = ["code", "bic", "name"]


@admin.register(Account, site=portal_admin_site)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["number", "name", "kind", "unit", "balance", "allow_negative"]
    list_filter = ["kind", "budget_level"]
    search_fields = ["number", "name", "unit__code"]
    list_select_related = ["unit"]


@admin.register(Transfer, site=portal_admin_site)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "key", "kind", "debit_account", "credit_account", "amount", "voucher"]
    list_filter = ["kind"]
    search_fields = ["key", "debit_account__number", "credit_account__number", "voucher__number"]
    list_select_related = ["debit_account", "credit_account", "voucher"]
    date_hierarchy = "created_at"


@admin.register(PaymentIntent, site=portal_admin_site)
class PaymentIntentAdmin(ReadOnlyAdmin):
    list_display = ["voucher", "status", "attempts", "failure_code", "clearing_bank", "bank_file", "updated_at"]
    list_filter = ["status", "failure_code"]
    search_fields = ["voucher__number"]
    list_select_related = ["voucher", "clearing_bank", "bank_file"]


@admin.register(BankFile, site=portal_admin_site)
class BankFileAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "bank", "office", "cycle", "transfer_count", "control_sum", "created_at"]
    list_filter = ["bank"]
    list_select_related = ["bank", "office"]
    exclude = ["file"]  # downloaded through the permission-checked page, never by URL


@admin.register(Notification, site=portal_admin_site)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "kind", "title", "read_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "title"]
    list_select_related = ["user"]
