"""`Authorization: Bearer <token>` for programs (the browser uses the session)."""

import time

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken, User
from accounts.selectors import db_datetime, memberships_of, raw_columns
from accounts.services import principal_cache_key, principal_local, token_digest

# Every API call runs this: the token, its user and whether the user has TOTP,
# in one raw query (the ORM would compile a three-table select with an EXISTS
# subquery anew each time, ~2 ms of Python; User.objects.raw() still applies the
# backend's value converters). Inactive users and revoked tokens find nothing.
# Identifiers come from the models' metadata; the values are parameters.
_TOKEN_SQL = (
    f"SELECT {raw_columns(User, 'u')}, t.\"id\" AS token_id, t.\"last_used_at\" AS token_last_used_at, "  # noqa: S608
    f'EXISTS (SELECT 1 FROM "{Authenticator._meta.db_table}" a WHERE a."user_id" = u."id" AND a."type" = %s) '
    "AS token_has_totp "
    f'FROM "{ApiToken._meta.db_table}" t JOIN "{User._meta.db_table}" u ON u."id" = t."user_id" '
    'WHERE t."digest" = %s AND t."revoked_at" IS NULL AND u."is_active"'
)


def _keep_locally(digest: str, entry: tuple, ttl: int, wall: float) -> None:
    """This process's copy (accounts.services.LocalPrincipals) for at most
    API_PRINCIPAL_LOCAL_SECONDS, and never past the entry's `ttl`."""
    seconds = min(settings.API_PRINCIPAL_LOCAL_SECONDS, entry[3] + ttl - wall)
    principal_local.put(digest, entry, seconds)


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
        digest = token_digest(plaintext)
        ttl = settings.API_PRINCIPAL_CACHE_SECONDS
        key = principal_cache_key(digest)
        now = timezone.now()
        wall = time.time()
        cached = None
        if ttl:
            # This process's copy first (LocalPrincipals: no Redis round-trip),
            # then the shared cache; an entry older than `ttl` is never used.
            cached = principal_local.get(digest)
            if cached is None:
                cached = cache.get(key)
                if cached is not None:
                    if len(cached) != 4 or wall - cached[3] >= ttl:
                        cached = None  # another version's entry, or past its life
                    else:
                        _keep_locally(digest, cached, ttl, wall)
        if cached is not None:
            user, token_id, last_used_at, _loaded_at = cached
            if last_used_at is None or (now - last_used_at).total_seconds() > 300:
                ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
                principal_local.forget([digest])
                cache.delete(key)  # the next call reads the new time (and everything else) again
        else:
            user = next(iter(User.objects.raw(_TOKEN_SQL, [Authenticator.Type.TOTP.value, digest])), None)
            if user is None:
                raise exceptions.AuthenticationFailed("Invalid or revoked token.")
            # Whether the user has TOTP came in the same query: the MFA check of
            # every staff or signer request (accounts.middleware.has_mfa) costs none.
            user._portal_has_mfa = bool(user.token_has_totp)
            token_id, last_used_at = user.token_id, db_datetime(user.token_last_used_at)
            if last_used_at is None or (now - last_used_at).total_seconds() > 300:
                ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
                last_used_at = now
            if ttl:
                # The principal, memberships included, for the next calls of
                # this token: at most `ttl` seconds old, and deleted at once by
                # what changes it (accounts.services.principal_cache_forget).
                memberships_of(user)
                entry = (user, token_id, last_used_at, wall)
                cache.set(key, entry, ttl)
                _keep_locally(digest, entry, ttl, wall)
        token = ApiToken(id=token_id, user_id=user.pk, last_used_at=last_used_at)
        token._state.adding = False
        return user, token

    def authenticate_header(self, request):  # noqa: ANN001, ANN201
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes the Bearer token in the OpenAPI schema (drf-spectacular)."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):  # noqa: ANN001, ANN201 - drf-spectacular's signature
        return {"type": "http", "scheme": "bearer", "description": "A personal API token: `Bearer tp_…`."}
