from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from accounts.models import ApiToken, Membership, Organisation, OrgKind, SigningKey, User
from accounts.services import _path_for
from treasury_portal.admin_site import TreasuryAdminMixin, portal_admin_site


@admin.register(User, site=portal_admin_site)
class PortalUserAdmin(TreasuryAdminMixin, UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_active"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "phone")}),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined"]


class MembershipInline(TreasuryAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation, site=portal_admin_site)
class OrganisationAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "office", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent", "office"]
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: Organisation, form, change: bool) -> None:  # noqa: ANN001
        obj.path = _path_for(kind=obj.kind, code=obj.code, parent=obj.parent, office=obj.office)
        super().save_model(request, obj, form, change)
        if change and obj.kind == OrgKind.UNIT and "office" in form.changed_data:
            from vouchers.services import vouchers_follow_unit_office

            vouchers_follow_unit_office(unit=obj)


@admin.register(SigningKey, site=portal_admin_site)
class SigningKeyAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    list_display = ["fingerprint", "user", "unit", "role", "status", "slot", "created_at"]
    list_filter = ["status", "role"]
    search_fields = ["fingerprint", "user__username", "unit__code"]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False  # keys are registered by their signers and approved on the approvals page

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ApiToken, site=portal_admin_site)
class ApiTokenAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
