"""`Authorization: Bearer <token>` for programs (the browser uses the session)."""

from allauth.mfa.models import Authenticator
from django.db.models import Exists, OuterRef
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from accounts.services import token_digest


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):  # noqa: ANN001, ANN201 - DRF's signature
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header.")
        try:
            plaintext = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(plaintext), revoked_at__isnull=True, user__is_active=True)
            # Whether the user has TOTP, in the same query: the MFA check of every
            # staff or signer request (accounts.middleware.has_mfa) then costs none.
            .annotate(user_has_totp=Exists(
                Authenticator.objects.filter(user=OuterRef("user_id"), type=Authenticator.Type.TOTP)
            ))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        token.user._portal_has_mfa = token.user_has_totp
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):  # noqa: ANN001, ANN201
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes the Bearer token in the OpenAPI schema (drf-spectacular)."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):  # noqa: ANN001, ANN201 - drf-spectacular's signature
        return {"type": "http", "scheme": "bearer", "description": "A personal API token: `Bearer tp_…`."}
