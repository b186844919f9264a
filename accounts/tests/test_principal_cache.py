"""The API principal is cached a few seconds per token (API_PRINCIPAL_CACHE_SECONDS):
a repeat call reads neither the token nor the memberships, and revoking the
token, a membership or the user's second factor is seen by the very next call;
what bypasses the models' signals is served at most the cache's lifetime."""

import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken, Membership
from accounts.services import api_token_create, api_token_revoke, membership_revoke, principal_local
from conftest import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cached():  # noqa: ANN202
    cache.clear()
    with override_settings(API_PRINCIPAL_CACHE_SECONDS=15):
        yield
    cache.clear()


def _queries(client, path: str = "/api/v1/me") -> tuple[int, int]:  # noqa: ANN001
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    token_or_memberships = sum(
        1 for q in ctx.captured_queries
        if f'"{ApiToken._meta.db_table}"' in q["sql"] or f'"{Membership._meta.db_table}"' in q["sql"]
    )
    return response.status_code, token_or_memberships


def test_a_repeat_call_reads_neither_token_nor_memberships(world):  # noqa: ANN001
    client = api_client_for(world.users["officer"])
    assert client.get("/api/v1/me").status_code == 200  # the token's first use also writes last_used_at
    cache.clear()
    principal_local.clear()
    assert _queries(client) == (200, 2)  # the token with its user, the memberships
    assert _queries(client) == (200, 0)
    body = client.get("/api/v1/me").json()
    assert body["username"] == "officer"
    assert [m["role"] for m in body["memberships"]] == ["control_officer"]
    # The review queue (control officer, second factor required) from the cache too.
    assert _queries(client, "/api/v1/review-queue")[0] == 200


def test_a_revoked_token_is_refused_at_once(world):  # noqa: ANN001
    user = world.users["a_holder"]
    client = api_client_for(user)
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me").status_code == 200  # from the cache
    token = ApiToken.objects.filter(user=user).latest("pk")
    api_token_revoke(actor=user, token_id=token.pk)
    assert client.get("/api/v1/me").status_code == 401


def test_a_token_revoked_in_the_admin_is_refused_at_once(world):  # noqa: ANN001
    user = world.users["a_holder"]
    client = api_client_for(user)
    assert client.get("/api/v1/me").status_code == 200
    token = ApiToken.objects.filter(user=user).latest("pk")
    token.revoked_at = token.created_at
    token.save()  # the admin's way: the model's save, its signal
    assert client.get("/api/v1/me").status_code == 401


def test_a_revoked_membership_is_seen_by_the_next_call(world):  # noqa: ANN001
    officer = world.users["officer"]
    client = api_client_for(officer)
    assert client.get("/api/v1/review-queue").status_code == 200
    assert client.get("/api/v1/review-queue").status_code == 200  # cached principal
    membership = Membership.objects.get(user=officer, role="control_officer", is_active=True)
    membership_revoke(actor=world.users["tadmin"], membership_id=membership.pk)
    assert client.get("/api/v1/review-queue").status_code == 403
    assert client.get("/api/v1/me").json()["memberships"] == []


def test_a_removed_second_factor_is_seen_by_the_next_call(world):  # noqa: ANN001
    officer = world.users["officer"]
    client = api_client_for(officer)
    assert client.get("/api/v1/review-queue").status_code == 200
    officer.authenticator_set.all().delete()  # the model's delete: its signal
    response = client.get("/api/v1/review-queue")
    assert response.status_code == 403 and response.json()["code"] == "mfa_required"


def test_what_bypasses_the_signals_is_served_at_most_the_cache_lifetime(world):  # noqa: ANN001
    user = world.users["a_holder"]
    with override_settings(API_PRINCIPAL_CACHE_SECONDS=1):
        _token, plaintext = api_token_create(user=user, name="short")
        client = api_client_for(user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        assert client.get("/api/v1/me").status_code == 200
        ApiToken.objects.filter(pk=_token.pk).update(revoked_at=_token.created_at)  # no signal
        assert client.get("/api/v1/me").status_code == 200  # still the cached principal…
        time.sleep(1.1)
        assert client.get("/api/v1/me").status_code == 401  # …never longer than its lifetime


def test_off_it_reads_the_token_every_time(world):  # noqa: ANN001
    client = api_client_for(world.users["officer"])
    with override_settings(API_PRINCIPAL_CACHE_SECONDS=0):
        assert client.get("/api/v1/me").status_code == 200  # the first use writes last_used_at
        assert _queries(client) == (200, 2)
        assert _queries(client) == (200, 2)


# --- this process's copies (API_PRINCIPAL_LOCAL_SECONDS, accounts.services.LocalPrincipals) ---


def test_a_repeat_call_within_the_local_time_asks_no_shared_cache(world, monkeypatch):  # noqa: ANN001
    client = api_client_for(world.users["officer"])
    assert client.get("/api/v1/me").status_code == 200
    reads = []

    class Counting:
        def __getattr__(self, name: str):  # noqa: ANN204
            reads.append(name)
            return getattr(cache, name)

    monkeypatch.setattr("accounts.authentication.cache", Counting())
    assert _queries(client) == (200, 0)
    assert reads == []  # neither read nor written


def test_each_call_gets_its_own_user_object(world):  # noqa: ANN001
    from django.test import RequestFactory

    from accounts.authentication import BearerTokenAuthentication

    _token, plaintext = api_token_create(user=world.users["officer"], name="objects")
    request = RequestFactory().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    first, _t = BearerTokenAuthentication().authenticate(request)
    first._portal_marker = "set by an earlier request"
    second, _t = BearerTokenAuthentication().authenticate(request)
    assert second.username == "officer"
    assert second is not first and not hasattr(second, "_portal_marker")
    assert second._portal_memberships is not first._portal_memberships


def test_another_process_s_revocation_is_seen_within_the_local_time(world):  # noqa: ANN001
    """Another process revoked the token: it deleted the shared entry, not this
    process's copy, which serves at most API_PRINCIPAL_LOCAL_SECONDS more."""
    from accounts.services import principal_cache_key, token_digest

    user = world.users["a_holder"]
    with override_settings(API_PRINCIPAL_LOCAL_SECONDS=0.5):
        token, plaintext = api_token_create(user=user, name="elsewhere")
        client = api_client_for(user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        assert client.get("/api/v1/me").status_code == 200
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.created_at)  # as the other process…
        cache.delete(principal_cache_key(token_digest(plaintext)))  # …and its principal_cache_forget
        assert client.get("/api/v1/me").status_code == 200  # this process's copy…
        time.sleep(0.6)
        assert client.get("/api/v1/me").status_code == 401  # …for at most the local time


def test_a_local_copy_never_outlives_the_shared_cache_lifetime(world):  # noqa: ANN001
    user = world.users["a_holder"]
    with override_settings(API_PRINCIPAL_CACHE_SECONDS=1, API_PRINCIPAL_LOCAL_SECONDS=30):
        token, plaintext = api_token_create(user=user, name="short")
        client = api_client_for(user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        assert client.get("/api/v1/me").status_code == 200
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.created_at)  # no signal
        assert client.get("/api/v1/me").status_code == 200
        time.sleep(1.1)
        assert client.get("/api/v1/me").status_code == 401


def test_local_copies_are_bounded():  # noqa: ANN201
    from accounts.services import LocalPrincipals

    local = LocalPrincipals(size=3)
    for n in range(5):
        local.put(f"d{n}", ("user", n), 10)
    assert [local.get(f"d{n}") for n in range(5)] == [None, None, ("user", 2), ("user", 3), ("user", 4)]
    local.put("gone", ("user", 9), 0)
    assert local.get("gone") is None
