"""DRF permission: the API enforces the same second-factor rule as the pages."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from accounts.middleware import mfa_missing


class MFAEnrolled(BasePermission):
    message = _("Vai trò của bạn bắt buộc xác thực hai lớp: hãy kích hoạt TOTP trên cổng trước khi dùng API.")
    code = "mfa_required"

    def has_permission(self, request, view) -> bool:  # noqa: ANN001
        return not mfa_missing(request.user)
