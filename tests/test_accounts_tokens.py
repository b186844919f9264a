"""Personal API tokens: shown once, stored hashed, revocable; `issue_token`."""

import hashlib
import io
import re

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from tests import language_check

pytestmark = pytest.mark.django_db


def _bearer(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_the_token_page_shows_a_new_token_once(world, client):
    client.force_login(world.users["a_preparer"])
    response = client.post(reverse("api-tokens"), {"name": "phần mềm kế toán"})
    assert response.status_code == 200
    plaintext = re.search(r"data-token>(tp_[^<]+)<", response.content.decode()).group(1)
    token = ApiToken.objects.get(user=world.users["a_preparer"])
    assert token.name == "phần mềm kế toán"
    # Stored as a digest, never as the token.
    assert token.digest == hashlib.sha256(plaintext.encode()).hexdigest()
    assert token.digest != plaintext and plaintext not in token.digest
    assert not ApiToken.objects.filter(digest=plaintext).exists()
    # Listed by prefix afterwards, never shown again.
    page = client.get(reverse("api-tokens")).content.decode()
    assert plaintext not in page
    assert token.prefix in page and plaintext.startswith(token.prefix)
    # It works for the API.
    me = _bearer(plaintext).get(reverse("api-me"))
    assert me.status_code == 200 and me.json()["username"] == "a_preparer"


def test_a_token_needs_a_name(world, client):
    client.force_login(world.users["a_preparer"])
    response = client.post(reverse("api-tokens"), {"name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_revoking_on_the_page_stops_the_token(world, client):
    token, plaintext = api_token_create(user=world.users["a_preparer"], name="x")
    api = _bearer(plaintext)
    assert api.get(reverse("api-me")).status_code == 200
    client.force_login(world.users["a_preparer"])
    response = client.post(reverse("api-token-revoke", kwargs={"pk": token.pk}))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    response = api.get(reverse("api-me"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert token.prefix not in client.get(reverse("api-tokens")).content.decode()


def test_nobody_else_revokes_a_token(world, client):
    token, plaintext = api_token_create(user=world.users["a_preparer"], name="x")
    client.force_login(world.users["b_preparer"])
    assert client.post(reverse("api-token-revoke", kwargs={"pk": token.pk})).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    with pytest.raises(Exception, match="Not found|Không tìm thấy"):
        api_token_revoke(actor=world.users["b_preparer"], token_id=token.pk)


def test_tokens_are_random_and_unique(world):
    tokens = {api_token_create(user=world.users["a_preparer"], name="x")[1] for _ in range(20)}
    assert len(tokens) == 20
    assert all(t.startswith("tp_") and len(t) >= 40 for t in tokens)


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer tp_wrong", "Bearer a b", "Token tp_x", "Bearer tp_\u00e9\u00e9"],
)
def test_bad_authorization_headers_are_401_never_500(world, header):
    client = APIClient()
    response = client.get(reverse("api-me"), HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_deactivated_users_token_stops_working(world):
    user = world.users["a_preparer"]
    _token, plaintext = api_token_create(user=user, name="x")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert _bearer(plaintext).get(reverse("api-me")).status_code == 401


def test_use_is_recorded(world):
    token, plaintext = api_token_create(user=world.users["a_preparer"], name="x")
    assert token.last_used_at is None
    _bearer(plaintext).get(reverse("api-me"))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_issue_token_prints_the_token_alone(world):
    out = io.StringIO()
    call_command("issue_token", "a_holder", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    plaintext = lines[0].strip()
    assert re.fullmatch(r"tp_[A-Za-z0-9_-]{40,}", plaintext)
    token = ApiToken.objects.get(user=world.users["a_holder"])
    assert token.digest == hashlib.sha256(plaintext.encode()).hexdigest()
    from conftest import enrol_totp

    enrol_totp(world.users["a_holder"])
    assert _bearer(plaintext).get(reverse("api-me")).json()["username"] == "a_holder"


def test_issue_token_for_an_unknown_user_fails(world):
    with pytest.raises(CommandError):
        call_command("issue_token", "nobody", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_there_is_no_password_for_token_endpoint(settings):
    from tests.test_access_policy import ALL_ROUTES

    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS
    modules = {getattr(r.callback, "__module__", "") for r in ALL_ROUTES}
    assert not [m for m in modules if "authtoken" in m or "simplejwt" in m]
    assert not [r.route for r in ALL_ROUTES if r.is_api and "token" in r.route]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_token_prefix_that_looks_like_a_code_is_shown_as_code(world, client, lang):
    """A prefix such as `tp_215zhup` is a token's name, shown as code, never read as a raw code."""
    token, _ = api_token_create(user=world.users["a_preparer"], name="Kế toán")
    ApiToken.objects.filter(pk=token.pk).update(prefix="tp_215zhup")
    client.force_login(world.users["a_preparer"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    page = client.get(reverse("api-tokens")).content.decode()
    assert "tp_215zhup" in page
    found = language_check.findings(page, lang, language_check.Allowed({"Kế toán"}))  # the prefix not allowed
    assert [f for f in found if "tp_215zhup" in f] == []
