"""Treasury staff and unit signers must enrol a second factor before anything
else: until then they reach only the sign-in, enrolment and language pages."""

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts.selectors import requires_mfa

EXEMPT_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/healthz", "/api/", "/verify/", "/procedures/", "/favicon")


def has_mfa(user) -> bool:  # noqa: ANN001
    cached = getattr(user, "_portal_has_mfa", None)
    if cached is None:
        cached = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        user._portal_has_mfa = cached
    return cached


def mfa_missing(user) -> bool:  # noqa: ANN001
    return bool(user.is_authenticated and requires_mfa(user) and not has_mfa(user))


class RequireMFAMiddleware:
    def __init__(self, get_response) -> None:  # noqa: ANN001
        self.get_response = get_response

    def __call__(self, request):  # noqa: ANN001, ANN204
        if not request.path.startswith(EXEMPT_PREFIXES) and mfa_missing(request.user):
            messages.warning(
                request,
                _("Vai trò của bạn bắt buộc xác thực hai lớp. Hãy kích hoạt mã TOTP để tiếp tục."),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
