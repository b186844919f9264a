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
from accounts.services import api_token_create, api_token_revoke, membership_revoke
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
