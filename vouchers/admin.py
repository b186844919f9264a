"""Administration of what treasury administrators keep: the procedure catalogue
(versions with their documents and checklist), the working-day calendar and the
deficiency / refusal codes. Vouchers themselves change only through services."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from treasury_portal.admin_site import TreasuryAdminMixin, portal_admin_site
from vouchers.models import (
    CalendarDay,
    ChecklistItem,
    DocumentRequirement,
    Procedure,
    ProcedureVersion,
    ReasonCode,
)
from vouchers.selectors import localized, work_calendar_invalidate


class ProcedureVersionInline(TreasuryAdminMixin, admin.TabularInline):
    model = ProcedureVersion
    extra = 0
    fields = ["effective_from", "processing_days", "peak_processing_days", "peak_periods", "legal_basis"]
    show_change_link = True


@admin.register(Procedure, site=portal_admin_site)
class ProcedureAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    list_display = ["code", "mode", "name", "files_voucher", "position"]
    list_filter = ["files_voucher"]
    search_fields = ["code", "name_vi", "name_en"]
    inlines = [ProcedureVersionInline]

    @admin.display(description=_("tên"), ordering="name_vi")
    def name(self, obj: Procedure) -> str:
        return localized(obj, "name")


class DocumentRequirementInline(TreasuryAdminMixin, admin.TabularInline):
    model = DocumentRequirement
    extra = 0

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Requirements of a version not yet in force may be corrected.
        return self._allowed(request) and _not_yet_in_force(obj)


class ChecklistItemInline(TreasuryAdminMixin, admin.TabularInline):
    model = ChecklistItem
    extra = 0

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._allowed(request) and _not_yet_in_force(obj)


def _not_yet_in_force(version: object) -> bool:
    from vouchers.selectors import local_today

    return isinstance(version, ProcedureVersion) and version.effective_from > local_today()


@admin.register(ProcedureVersion, site=portal_admin_site)
class ProcedureVersionAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    list_display = ["procedure", "effective_from", "processing_days", "peak_processing_days", "legal_basis"]
    list_filter = ["procedure__code"]
    date_hierarchy = "effective_from"
    inlines = [DocumentRequirementInline, ChecklistItemInline]

    def get_readonly_fields(self, request: HttpRequest, obj: ProcedureVersion | None = None) -> list[str]:
        # A version already applied to vouchers is history: its rules stay as they were.
        if obj is not None and obj.vouchers.exists():
            return ["procedure", "effective_from", "processing_days", "peak_processing_days", "peak_periods"]
        return []


@admin.register(CalendarDay, site=portal_admin_site)
class CalendarDayAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # A wrongly entered holiday must be removable: the calendar is data.
        return self._allowed(request)

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)
        work_calendar_invalidate()

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        super().delete_model(request, obj)
        work_calendar_invalidate()

    def delete_queryset(self, request: HttpRequest, queryset: object) -> None:
        super().delete_queryset(request, queryset)
        work_calendar_invalidate()


@admin.register(ReasonCode, site=portal_admin_site)
class ReasonCodeAdmin(TreasuryAdminMixin, admin.ModelAdmin):
    list_display = ["kind", "code", "text", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "text_vi", "text_en"]

    @admin.display(description=_("nội dung"), ordering="text_vi")
    def text(self, obj: ReasonCode) -> str:
        return localized(obj, "text")

    def get_readonly_fields(self, request: HttpRequest, obj: ReasonCode | None = None) -> list[str]:
        # Codes are counted in statistics: deactivate instead of renaming.
        return ["kind", "code"] if obj is not None else []
