from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Absence, ApiToken, Membership, Organisation, OrgKind, SigningKey, User
from accounts.services import _path_for
from accounts.signals import unit_office_changed
from treasury_portal.admin_site import TreasuryAdminMixin, as_code, portal_admin_site


@admin.register(User, site=portal_admin_site)
class PortalUserAdmin(TreasuryAdminMixin, UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_active"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Thông tin cá nhân"), {"fields": ("first_name", "last_name", "email", "phone")}),
        (_("Trạng thái"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined"]


class MembershipInline(TreasuryAdminMixin, admin.TabularInline):
    """Shown, not edited: roles are given and taken away on the portal's page
    (/treasury/memberships/, accounts.services.membership_grant / _revoke), where
    the signer limits, the administrator's scope and the audit row apply."""

    model = Membership
    extra = 0
    fields = ["user", "role", "is_active", "created_at"]
    readonly_fields = ["user", "role", "is_active", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Organisation, site=portal_admin_site)
class OrganisationAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "office", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    # Not select2 (autocomplete_fields): its combobox has no accessible name while
    # empty (axe-core). The offices are a short list; a parent is picked by id.
    raw_id_fields = ["parent"]
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: Organisation, form, change: bool) -> None:  # noqa: ANN001
        obj.path = _path_for(kind=obj.kind, code=obj.code, parent=obj.parent, office=obj.office)
        super().save_model(request, obj, form, change)
        if change and obj.kind == OrgKind.UNIT and "office" in form.changed_data:
            unit_office_changed.send(sender=Organisation, unit=obj)


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
    list_display = ["name", "user", "prefix_code", "created_at", "last_used_at", "revoked_at"]

    @admin.display(description=_("tiền tố"), ordering="prefix")
    def prefix_code(self, obj: ApiToken) -> str:
        return as_code(f"{obj.prefix}…")

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Absence, site=portal_admin_site)
class AbsenceAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    """Shown, not edited: absences are declared and cancelled on the portal's
    page (accounts.services), where the delegate's office and role are checked."""

    list_display = ["user", "delegate", "office", "role", "starts_on", "ends_on", "cancelled_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "delegate__username", "office__code"]
    list_select_related = ["user", "delegate", "office"]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
