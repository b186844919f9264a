"""DRF permissions: the API enforces the same second-factor rule as the pages,
and a view names the roles that may use it (`role_permissions`)."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission, IsAuthenticated

from accounts.middleware import mfa_missing
from accounts.selectors import roles_of


class MFAEnrolled(BasePermission):
    message = _("Vai trò của bạn bắt buộc xác thực hai lớp: hãy kích hoạt TOTP trên cổng trước khi dùng API.")
    code = "mfa_required"

    def has_permission(self, request, view) -> bool:  # noqa: ANN001
        return not mfa_missing(request.user)


def role_permission(roles: frozenset[str]) -> type[BasePermission]:
    """403 permission_denied for users holding none of `roles` anywhere; which
    objects they reach is the selectors' business (404 for others')."""

    class HasRole(BasePermission):
        message = _("Vai trò của bạn không được dùng chức năng này.")

        def has_permission(self, request, view) -> bool:  # noqa: ANN001
            return bool(roles_of(request.user) & roles)

    return HasRole


def role_permissions(roles: frozenset[str]) -> list:
    """A view's permission_classes: signed in, second factor where required, one of `roles`."""
    return [IsAuthenticated, MFAEnrolled, role_permission(roles)]
