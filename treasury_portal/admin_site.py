"""Django admin for treasury administrators only (and superusers)."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _


class PortalAdminSite(admin.AdminSite):
    site_header = _("Quản trị Cổng dịch vụ công Kho bạc")
    site_title = _("Quản trị kho bạc")

    def has_permission(self, request: HttpRequest) -> bool:
        from treasury_portal.pages import is_treasury_admin

        return bool(request.user.is_active and is_treasury_admin(request.user))


portal_admin_site = PortalAdminSite(name="admin")


class TreasuryAdminMixin:
    """Model permissions for treasury administrators, who need not be `is_staff`."""

    def _allowed(self, request: HttpRequest) -> bool:
        from treasury_portal.pages import is_treasury_admin

        return is_treasury_admin(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # history is kept: deactivate instead

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):  # noqa: ANN001, ANN201
        """A tabular inline's inputs sit under column headings, with no <label>:
        each is named by its field's verbose name (axe-core's `label` rule)."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(self, admin.options.InlineModelAdmin):
            widget = getattr(formfield.widget, "widget", formfield.widget)  # inside RelatedFieldWidgetWrapper
            widget.attrs.setdefault("aria-label", capfirst(db_field.verbose_name))
        return formfield


def as_code(value: str) -> str:
    """A machine code (an idempotency key, a failure code) shown as code, not as a sentence."""
    return format_html("<code>{}</code>", value) if value else "-"


def _login_through_allauth(request: HttpRequest, extra_context: object = None):  # noqa: ANN201
    """The admin has no sign-in of its own: allauth's, with its second factor.

    A signed-in user without admin rights gets 403: sending them to the sign-in
    page again would bounce straight back here (a redirect loop)."""
    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import redirect
    from django.urls import reverse

    from treasury_portal.pages import next_url as safe_next_url

    next_url = safe_next_url(request) or reverse("admin:index")
    if request.user.is_authenticated:
        if portal_admin_site.has_permission(request):
            return redirect(next_url)
        raise PermissionDenied
    return redirect_to_login(next_url, reverse("account_login"))


portal_admin_site.login = _login_through_allauth  # type: ignore[method-assign]
