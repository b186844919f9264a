import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter


class PortalAccountAdapter(DefaultAccountAdapter):
    """Administrators create users: there is no public sign-up."""

    def is_open_for_signup(self, request) -> bool:  # noqa: ANN001
        return False

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


def _aware(timestamp: float):  # noqa: ANN202
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, tz=UTC)
