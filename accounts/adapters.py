import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter


class PortalAccountAdapter(DefaultAccountAdapter):
    """Administrators create users: there is no public sign-up."""

    def is_open_for_signup(self, request) -> bool:  # noqa: ANN001
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's e-mails name the site from the request's Host; ours name
        the configured site (settings.SITE_URL)."""
        super().send_mail(template_prefix, email, {"current_site": _configured_site(), **context})

    def format_email_subject(self, subject: str) -> str:
        from django.utils.encoding import force_str

        return f"[{_configured_site().name}] {force_str(subject)}"

    def get_reset_password_from_key_url(self, key: str) -> str:
        """The password-reset link of the e-mail, on the configured site
        (settings.SITE_URL), not on whatever Host the request carried."""
        from urllib.parse import quote

        from django.urls import reverse

        from treasury_portal.links import site_url

        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return site_url(path.replace("UID-KEY", quote(key)))

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:  # noqa: ANN001
        from django.urls import reverse

        from treasury_portal.links import site_url

        return site_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:  # noqa: ANN003
        """allauth asks for the password again before any MFA change, even right
        after sign-in. Staff forced to enrol have just typed it: setting up their
        first factor (activation, then the recovery codes shown next) counts that
        sign-in, within the re-authentication timeout. Changing a factor that
        existed before this sign-in still re-authenticates."""
        if app == "allauth.mfa" and self._first_enrolment_right_after_sign_in():
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def _first_enrolment_right_after_sign_in(self) -> bool:
        from allauth.account.internal.flows.login import get_authentication_records
        from allauth.mfa.models import Authenticator

        request = self.request
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        records = [r for r in get_authentication_records(request, user) if r.get("method") == "password"]
        if not records:
            return False
        signed_in_at = records[-1]["at"]
        if time.time() - signed_in_at >= account_settings.REAUTHENTICATION_TIMEOUT:
            return False
        return not Authenticator.objects.filter(user=user, created_at__lt=_aware(signed_in_at)).exists()


def _configured_site():  # noqa: ANN202
    """What allauth's e-mails call the site: the portal's name and SITE_URL's host."""
    from types import SimpleNamespace
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.utils.translation import gettext

    name = gettext("Cổng dịch vụ công Kho bạc Nhà nước")
    return SimpleNamespace(name=name, domain=urlsplit(settings.SITE_URL).netloc)


def _aware(timestamp: float):  # noqa: ANN202
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, tz=UTC)
