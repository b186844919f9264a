"""Admin of autopay: the suppliers' collection accounts (reference data the
treasury keeps). Authorizations, invoices and runs change only through the
services and their pages."""

from django.contrib import admin

from autopay.models import SupplierCollectionAccount
from treasury_portal.admin_site import TreasuryAdminMixin, portal_admin_site


@admin.register(SupplierCollectionAccount, site=portal_admin_site)
class SupplierCollectionAccountAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    """Where a supplier's autopay money goes (reference data the treasury keeps)."""

    list_display = ["supplier", "bank", "account_number", "account_name", "updated_at"]
    list_filter = ["bank"]
    search_fields = ["supplier__code", "supplier__name", "account_number", "account_name"]
    list_select_related = ["supplier", "bank"]
