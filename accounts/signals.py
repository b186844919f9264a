"""Signals of the accounts app.

For the apps above it (issue 15: accounts never imports them; they connect
their receivers in their AppConfig.ready): `unit_office_changed`.

And what changes an API principal deletes its cached copy (accounts.services.
principal_cache_forget; accounts.authentication keeps it a few seconds).

Receivers of the models' own signals, so a change made anywhere through the
ORM's save/delete (services, the admin, the shell) counts; a bulk
`QuerySet.update()` sends no signal: the cache's lifetime
(API_PRINCIPAL_CACHE_SECONDS) bounds those."""

from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal

from accounts.models import ApiToken, Membership, Organisation, User

# A unit moved to another transaction office (the admin's organisation form).
# Sent with `unit` (the Organisation) inside the save; vouchers' receiver moves
# the unit's vouchers to the new office (vouchers.services.vouchers_follow_unit_office).
unit_office_changed = Signal()


def _on() -> bool:
    return bool(settings.API_PRINCIPAL_CACHE_SECONDS)


def _token_changed(sender: type, instance: ApiToken, **kwargs: Any) -> None:
    from accounts.services import principal_cache_forget

    if _on() and not kwargs.get("created"):
        principal_cache_forget(digests=[instance.digest])


def _membership_changed(sender: type, instance: Membership, **kwargs: Any) -> None:
    from accounts.services import principal_cache_forget

    if _on():
        principal_cache_forget(user_ids=[instance.user_id])


def _user_changed(sender: type, instance: User, **kwargs: Any) -> None:
    from accounts.services import principal_cache_forget

    fields = kwargs.get("update_fields")
    if _on() and not kwargs.get("created") and not (fields and set(fields) <= {"last_login"}):
        principal_cache_forget(user_ids=[instance.pk])


def _authenticator_changed(sender: type, instance: Authenticator, **kwargs: Any) -> None:
    from accounts.services import principal_cache_forget

    if _on():
        principal_cache_forget(user_ids=[instance.user_id])


def _organisation_changed(sender: type, instance: Organisation, **kwargs: Any) -> None:
    from accounts.services import principal_cache_forget

    if _on() and not kwargs.get("created"):
        members = Membership.objects.filter(organisation_id=instance.pk).values_list("user_id", flat=True)
        principal_cache_forget(user_ids=set(members))


def _principal_settings_changed(setting: str, **kwargs: Any) -> None:
    """A test turning the principal cache on or off starts without this
    process's copies of principals (accounts.services.LocalPrincipals)."""
    if setting in ("API_PRINCIPAL_CACHE_SECONDS", "API_PRINCIPAL_LOCAL_SECONDS"):
        from accounts.services import principal_local

        principal_local.clear()


def connect() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(_principal_settings_changed, dispatch_uid="principal-settings")
    for signal in (post_save, post_delete):
        signal.connect(_token_changed, sender=ApiToken, dispatch_uid="principal-token")
        signal.connect(_membership_changed, sender=Membership, dispatch_uid="principal-membership")
        signal.connect(_user_changed, sender=User, dispatch_uid="principal-user")
        signal.connect(_authenticator_changed, sender=Authenticator, dispatch_uid="principal-authenticator")
        signal.connect(_organisation_changed, sender=Organisation, dispatch_uid="principal-organisation")
